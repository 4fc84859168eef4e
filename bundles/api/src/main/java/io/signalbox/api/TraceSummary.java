package io.signalbox.api;

/**
 * A line of the trace list.
 *
 * @param traceId      the trace id
 * @param spanCount    spans seen
 * @param messageCount messages of any type seen
 * @param firstSeen    smallest timestamp, epoch ms
 * @param lastSeen     largest timestamp, epoch ms
 */
public record TraceSummary(String traceId, int spanCount, long messageCount, long firstSeen, long lastSeen) {
}
