package io.signalbox.api;

import java.util.List;

/**
 * A line of the trace list.
 *
 * @param traceId      the trace id
 * @param spanCount    spans seen
 * @param messageCount messages of any type seen
 * @param firstSeen    smallest timestamp, epoch ms
 * @param lastSeen     largest timestamp, epoch ms
 * @param sources      the sources that contributed, in the order they appeared
 * @since 1.3 (sources)
 */
public record TraceSummary(String traceId, int spanCount, long messageCount, long firstSeen, long lastSeen,
        List<String> sources) {

    public TraceSummary {
        sources = sources == null ? List.of() : sources;
    }

    /** A summary without its sources (API 1.0). */
    public TraceSummary(String traceId, int spanCount, long messageCount, long firstSeen, long lastSeen) {
        this(traceId, spanCount, messageCount, firstSeen, lastSeen, List.of());
    }
}
