package io.signalbox.api;

import java.util.List;
import java.util.Set;

/**
 * A trace: every span seen for one trace id, as a tree.
 *
 * @param traceId     the trace id
 * @param roots       spans without a parent, or whose parent has not been seen; children
 *                    hang below them ordered by start time
 * @param spanCount   number of spans
 * @param messageCount number of messages of any type carrying this trace id
 * @param sources     every source that contributed
 * @param firstSeen   smallest message timestamp, epoch ms
 * @param lastSeen    largest message timestamp, epoch ms
 */
public record Trace(String traceId, List<SpanNode> roots, int spanCount, long messageCount,
        Set<String> sources, long firstSeen, long lastSeen) {
}
