package io.signalbox.metrics.promql;

import java.util.List;
import java.util.Map;

/** Values an expression evaluates to, and the samples the storage hands over. */
public final class Values {
    private Values() {
    }

    /** What an expression evaluates to at one instant. */
    public sealed interface Value {
    }

    /** A plain number. */
    public record Scalar(double value) implements Value {
    }

    /** One value per series (labels sorted by name). */
    public record Vector(List<Sample> samples) implements Value {
    }

    /** The samples of each series in a time window (only as the result of an instant query on {@code x[5m]}). */
    public record Matrix(List<SeriesData> series) implements Value {
    }

    /** One value of one series. */
    public record Sample(Map<String, String> labels, double value) {
    }

    /** A series' samples, timestamps (epoch ms) ascending. */
    public record SeriesData(Map<String, String> labels, long[] timestamps, double[] values) {
        public int size() {
            return timestamps.length;
        }
    }
}
