package io.signalbox.correlation.internal;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.signalbox.api.ConfigValues;

/**
 * Correlation's configuration, checked once ({@link #of}) and swapped as a whole.
 *
 * @param batchSize           a source's buffer is flushed when it holds this many messages
 * @param flushIntervalMillis a source's buffer is flushed when its oldest message waited this long
 * @param capacity            high-water mark of the messages in flight
 * @param maxMegabytes        high-water mark of their weight in MiB (lines + per-message overhead)
 * @param resumeRatio         paused transports resume at {@code capacity × resumeRatio}
 * @param traces              the trace store's bounds
 */
record CorrelationSettings(int batchSize, long flushIntervalMillis, int capacity, int maxMegabytes,
        double resumeRatio, TraceLimits traces) {
    private static final long MAX_TICK_MILLIS = 250;
    private static final long MIN_TICK_MILLIS = 5;

    /**
     * The settings of {@code c}.
     *
     * @throws io.signalbox.api.ConfigCheck.Rejected naming every problem (unknown keys, types, ranges)
     */
    static CorrelationSettings of(CorrelationEngine.Config c, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(CorrelationEngine.Config.class, c, properties);
        CorrelationSettings s = new CorrelationSettings(
                v.atLeast("batch.size", c.batch_size(), 1),
                v.atLeast("flush.interval.ms", c.flush_interval_ms(), 1),
                v.atLeast("queue.capacity", c.queue_capacity(), 1),
                v.atLeast("queue.max.mb", c.queue_max_mb(), 1),
                v.range("resume.ratio", c.resume_ratio(), 0, 1),
                new TraceLimits(
                        v.atLeast("trace.max.traces", c.trace_max_traces(), 1),
                        TimeUnit.SECONDS.toMillis(v.atLeast("trace.ttl.seconds", c.trace_ttl_seconds(), 1)),
                        v.atLeast("trace.max.spans", c.trace_max_spans(), 0),
                        v.atLeast("trace.max.messages.per.span", c.trace_max_messages_per_span(), 0),
                        v.atLeast("trace.max.messages", c.trace_max_messages(), 0)));
        v.done();
        return s;
    }

    long flushIntervalNanos() {
        return TimeUnit.MILLISECONDS.toNanos(flushIntervalMillis);
    }

    /** The scheduler's period: {@code flush.interval.ms / 4}, within 5..250 ms. */
    long tickMillis() {
        return Math.max(MIN_TICK_MILLIS, Math.min(flushIntervalMillis / 4, MAX_TICK_MILLIS));
    }

    /** High-water mark of the bytes in flight. */
    long maxBytes() {
        return maxMegabytes * 1024L * 1024L;
    }

    /** In-flight bytes at or below which paused transports resume. */
    long resumeBytes() {
        return (long) Math.floor(maxBytes() * resumeRatio);
    }

    /** In-flight count at or below which paused transports resume. */
    long resumeThreshold() {
        return (long) Math.floor(capacity * resumeRatio);
    }

    @Override
    public String toString() {
        return "batch.size=" + batchSize + ", flush.interval.ms=" + flushIntervalMillis
                + ", queue.capacity=" + capacity + ", queue.max.mb=" + maxMegabytes + ", resume.ratio=" + resumeRatio
                + ", trace.max.traces=" + traces.maxTraces() + ", trace.ttl.seconds=" + traces.ttlMillis() / 1000
                + ", trace.max.spans=" + traces.maxSpans() + ", trace.max.messages.per.span=" + traces.maxPerSpan()
                + ", trace.max.messages=" + traces.maxMessages();
    }
}
