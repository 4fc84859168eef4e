package io.signalbox.correlation.internal;

/**
 * The trace store's bounds, swapped as a whole on reconfiguration.
 *
 * @param maxTraces   traces held; beyond it the least recently updated are evicted
 * @param ttlMillis   a trace not updated for this long is evicted
 * @param maxSpans    spans kept per trace
 * @param maxPerSpan  events, and metrics, kept per span (and outside spans) of a trace
 * @param maxMessages events and metrics kept per trace in all
 * @param evictAbove  map size above which inserting a new trace evicts at once: a little slack
 *                    over {@code maxTraces}, so that it does not scan on every new id (derived:
 *                    use the five-argument constructor)
 */
record TraceLimits(int maxTraces, long ttlMillis, int maxSpans, int maxPerSpan, int maxMessages, int evictAbove) {

    TraceLimits(int maxTraces, long ttlMillis, int maxSpans, int maxPerSpan, int maxMessages) {
        this(maxTraces, ttlMillis, maxSpans, maxPerSpan, maxMessages,
                (int) Math.min(Integer.MAX_VALUE, (long) maxTraces + Math.max(1, maxTraces / 10)));
    }
}
