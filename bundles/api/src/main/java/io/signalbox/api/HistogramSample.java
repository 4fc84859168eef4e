package io.signalbox.api;

import java.util.Arrays;

/**
 * One histogram's state: per-bucket (not cumulative) counts for the upper bounds, then the
 * {@code +Inf} bucket, and the sum of the observations.
 *
 * @param upperBounds finite, increasing upper bounds
 * @param counts      observations per bucket, {@code upperBounds.length + 1} of them (the last is {@code +Inf})
 * @param sum         the sum of all observations
 */
public record HistogramSample(double[] upperBounds, long[] counts, double sum) {

    public HistogramSample {
        if (counts.length != upperBounds.length + 1) {
            throw new IllegalArgumentException(
                    "a histogram needs one count per bound plus +Inf: " + upperBounds.length + " bounds, " + counts.length + " counts");
        }
        for (int i = 1; i < upperBounds.length; i++) {
            if (!(upperBounds[i] > upperBounds[i - 1])) {
                throw new IllegalArgumentException("histogram bounds must increase: " + Arrays.toString(upperBounds));
            }
        }
        for (long c : counts) {
            if (c < 0) {
                throw new IllegalArgumentException("negative histogram count: " + Arrays.toString(counts));
            }
        }
        upperBounds = upperBounds.clone();
        counts = counts.clone();
    }

    /** All observations. */
    public long count() {
        long c = 0;
        for (long n : counts) {
            c += n;
        }
        return c;
    }

    /** Observations at or below {@code upperBounds[i]} (cumulative, as Prometheus' {@code le} buckets). */
    public long cumulative(int i) {
        long c = 0;
        for (int j = 0; j <= i; j++) {
            c += counts[j];
        }
        return c;
    }

    @Override
    public double[] upperBounds() {
        return upperBounds.clone();
    }

    @Override
    public long[] counts() {
        return counts.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HistogramSample h && Arrays.equals(upperBounds, h.upperBounds)
                && Arrays.equals(counts, h.counts) && Double.compare(sum, h.sum) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(upperBounds) + Arrays.hashCode(counts)) + Double.hashCode(sum);
    }

    @Override
    public String toString() {
        return "HistogramSample[bounds=" + Arrays.toString(upperBounds) + ", counts=" + Arrays.toString(counts)
                + ", sum=" + sum + "]";
    }
}
