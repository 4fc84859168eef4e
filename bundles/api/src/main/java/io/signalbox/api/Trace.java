package io.signalbox.api;

import java.util.List;
import java.util.Set;

/**
 * A trace: every span seen for one trace id, as a tree, with the events and metrics that were
 * sent in it.
 *
 * @param traceId      the trace id
 * @param roots        spans without a parent, or whose parent has not been seen; children
 *                     hang below them ordered by start time
 * @param spanCount    number of spans
 * @param messageCount number of messages of any type carrying this trace id
 * @param sources      every source that contributed
 * @param firstSeen    smallest message timestamp, epoch ms
 * @param lastSeen     largest message timestamp, epoch ms
 * @param bySource     what each source contributed, ordered by {@link TraceSource#start()}, then name
 * @param events       {@code event} and {@code progress} messages of this trace that name no span
 *                     (or a span beyond the store's span limit), in arrival order; bounded by the store
 * @param metrics      {@code metric} and {@code resource} messages of this trace that name no span, likewise
 * @param eventsCut    such events received but not kept because a bound was reached
 * @param metricsCut   such metrics received but not kept because a bound was reached
 * @since 1.3
 */
public record Trace(String traceId, List<SpanNode> roots, int spanCount, long messageCount,
        Set<String> sources, long firstSeen, long lastSeen, List<TraceSource> bySource,
        List<Message> events, List<Message> metrics, long eventsCut, long metricsCut) {

    public Trace {
        bySource = bySource == null ? List.of() : bySource;
        events = events == null ? List.of() : events;
        metrics = metrics == null ? List.of() : metrics;
    }

    /** A trace without per-source summaries and without messages outside its spans (API 1.0). */
    public Trace(String traceId, List<SpanNode> roots, int spanCount, long messageCount,
            Set<String> sources, long firstSeen, long lastSeen) {
        this(traceId, roots, spanCount, messageCount, sources, firstSeen, lastSeen, List.of(), List.of(), List.of(),
                0, 0);
    }
}
