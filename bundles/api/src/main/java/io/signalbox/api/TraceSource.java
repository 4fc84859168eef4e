package io.signalbox.api;

/**
 * What one source contributed to a trace: the per-source summary of {@link Trace#bySource()}
 * (e.g. {@code file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s}).
 *
 * @param source       the source
 * @param spanCount    span messages it sent for the trace (kept or not)
 * @param messageCount messages of any type it sent for the trace
 * @param start        its part of the trace began: its earliest span start, or, if it sent no
 *                     span, its earliest message timestamp (epoch ms)
 * @param end          its latest span end, or, without spans, its latest message timestamp (epoch ms)
 * @since 1.3
 */
public record TraceSource(String source, int spanCount, long messageCount, long start, long end) {
    /** {@code end - start}. */
    public long durationMillis() {
        return end - start;
    }
}
