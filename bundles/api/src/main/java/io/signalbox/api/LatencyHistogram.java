package io.signalbox.api;

import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram with fixed buckets (seconds), cheap to record into from hot paths (one
 * {@link LongAdder} per bucket), reported to a {@link MetricsSink} as a {@link HistogramSample}
 * (on {@code /metrics}: a classic Prometheus histogram).
 */
public final class LatencyHistogram {
    /** Upper bounds in seconds, from 0.5 ms to 1 min; above the last is {@code +Inf}. */
    public static final double[] BOUNDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5, 10, 30, 60};
    private static final long[] BOUNDS_NANOS = new long[BOUNDS.length];

    static {
        for (int i = 0; i < BOUNDS.length; i++) {
            BOUNDS_NANOS[i] = Math.round(BOUNDS[i] * 1e9);
        }
    }

    private final LongAdder[] counts = new LongAdder[BOUNDS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Records one observation of {@code nanos} (negative values count as 0). */
    public void record(long nanos) {
        long n = Math.max(0, nanos);
        int i = 0;
        while (i < BOUNDS_NANOS.length && n > BOUNDS_NANOS[i]) {
            i++;
        }
        counts[i].increment();
        sumNanos.add(n);
    }

    /** Observations so far. */
    public long count() {
        long c = 0;
        for (LongAdder a : counts) {
            c += a.sum();
        }
        return c;
    }

    /** The current state: per-bucket counts for {@link #BOUNDS} and {@code +Inf}, sum in seconds. */
    public HistogramSample sample() {
        long[] c = new long[counts.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].sum();
        }
        return new HistogramSample(BOUNDS, c, sumNanos.sum() / 1e9);
    }

    /**
     * Reports the histogram into {@code sink}.
     *
     * @param name   series name without suffix, e.g. {@code signalbox_backend_latency_seconds}
     * @param labels label name/value pairs, e.g. {@code "backend", "db"}
     */
    public void collect(MetricsSink sink, String name, String... labels) {
        sink.histogram(name, sample(), labels);
    }
}
