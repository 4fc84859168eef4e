package io.signalbox.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * A {@link MetricsSink} that keeps what it is given, for readers that want values rather than
 * exposition text: {@code /health}, {@code /api/sources}, the shutdown summary, and tests
 * ({@code MetricSamples.of(backend).value("signalbox_file_messages_written_total")}).
 *
 * <p>Not thread-safe: fill it from one thread (a {@code collect} call), then read it.
 */
public final class MetricSamples implements MetricsSink {

    /** The kind of a series. */
    public enum Type {
        COUNTER, GAUGE, HISTOGRAM
    }

    /**
     * One reported series.
     *
     * @param name      the series name ({@code _total} included for counters)
     * @param type      its kind
     * @param labels    label names to values, in the order reported
     * @param value     the value (a histogram's count)
     * @param histogram the histogram, or {@code null} unless {@code type} is {@link Type#HISTOGRAM}
     */
    public record Sample(String name, Type type, Map<String, String> labels, double value, HistogramSample histogram) {
        /** The value of label {@code label}, or {@code null}. */
        public String label(String label) {
            return labels.get(label);
        }
    }

    private final List<Sample> samples = new ArrayList<>();

    /** Everything {@code source} reports now (also a lambda: {@code MetricSamples.of(sink -> h.collect(sink, …))}). */
    public static MetricSamples of(StatsSource source) {
        MetricSamples s = new MetricSamples();
        source.collect(s);
        return s;
    }

    @Override
    public void counter(String name, double value, String... labels) {
        samples.add(new Sample(name, Type.COUNTER, labelMap(name, labels), value, null));
    }

    @Override
    public void gauge(String name, double value, String... labels) {
        samples.add(new Sample(name, Type.GAUGE, labelMap(name, labels), value, null));
    }

    @Override
    public void histogram(String name, HistogramSample value, String... labels) {
        samples.add(new Sample(name, Type.HISTOGRAM, labelMap(name, labels), value.count(), value));
    }

    /** Label pairs as a map; odd counts and {@code null}s are the caller's bug. */
    static Map<String, String> labelMap(String name, String... labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels of " + name + " must be name/value pairs: " + List.of(labels));
        }
        if (labels.length == 0) {
            return Map.of();
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            m.put(Objects.requireNonNull(labels[i], "label name"), Objects.requireNonNull(labels[i + 1], "label value"));
        }
        return Collections.unmodifiableMap(m);
    }

    /** Every sample, in the order reported. */
    public List<Sample> all() {
        return Collections.unmodifiableList(samples);
    }

    /** The samples of series {@code name}, in the order reported. */
    public List<Sample> all(String name) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * The value of series {@code name} with exactly these labels (name/value pairs), added up if
     * reported more than once; empty if it was not reported.
     */
    public OptionalDouble find(String name, String... labels) {
        Map<String, String> wanted = labelMap(name, labels);
        boolean found = false;
        double sum = 0;
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().equals(wanted)) {
                found = true;
                sum += s.value();
            }
        }
        return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
    }

    /** {@link #find}; throws {@link IllegalStateException} naming what was reported if the series is absent. */
    public double value(String name, String... labels) {
        OptionalDouble v = find(name, labels);
        if (v.isEmpty()) {
            throw new IllegalStateException("no series " + name + labelMap(name, labels) + " among " + names());
        }
        return v.getAsDouble();
    }

    /** {@link #find}, or {@code otherwise}. */
    public double valueOr(String name, double otherwise, String... labels) {
        return find(name, labels).orElse(otherwise);
    }

    /** The sum of series {@code name} over all its label sets (0 if not reported). */
    public double sum(String name) {
        double sum = 0;
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                sum += s.value();
            }
        }
        return sum;
    }

    /** The histogram {@code name} with exactly these labels, or {@code null}. */
    public HistogramSample histogram(String name, String... labels) {
        Map<String, String> wanted = labelMap(name, labels);
        for (Sample s : samples) {
            if (s.type() == Type.HISTOGRAM && s.name().equals(name) && s.labels().equals(wanted)) {
                return s.histogram();
            }
        }
        return null;
    }

    /** Series {@code name} by the value of one label, added up over the other labels, in first-seen order. */
    public Map<String, Double> byLabel(String name, String label) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Sample s : samples) {
            String v = s.name().equals(name) ? s.label(label) : null;
            if (v != null) {
                out.merge(v, s.value(), Double::sum);
            }
        }
        return out;
    }

    /** The distinct series names, in first-seen order. */
    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (Sample s : samples) {
            if (!out.contains(s.name())) {
                out.add(s.name());
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return samples.toString();
    }
}
