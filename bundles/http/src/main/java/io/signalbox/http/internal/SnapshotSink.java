package io.signalbox.http.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import io.signalbox.api.HistogramSample;
import io.signalbox.api.MetricsSink;

/**
 * The {@link MetricsSink} that {@code /metrics} hands to every {@code StatsSource}: it turns the
 * typed calls into Prometheus client snapshots, one answer's worth (made per scrape, not
 * thread-safe). A counter {@code x_total} becomes the family {@code x} (the library writes the
 * {@code _total}), a gauge a gauge, a {@link HistogramSample} a classic histogram.
 *
 * <p>What one source reports is held back until {@link #commit} (a source that throws half-way
 * is {@link #discard discarded} whole). Then each series is checked: Prometheus' classic name
 * rules for names and label names, name/value pairs, a counter named {@code …_total} with a
 * value that is a number and not negative, no name someone else uses ({@code reserved}: the JVM
 * metrics) or that another series uses with another type. A series that fails is left out and
 * counted ({@link #skipped()}, {@link #firstProblem()}). The same series reported twice is added up.
 */
final class SnapshotSink implements MetricsSink {
    private static final String TOTAL = "_total";
    /** Suffixes the exposition format gives a meaning: a gauge or histogram may not end in one. */
    private static final String[] RESERVED_SUFFIXES = { TOTAL, "_created", "_bucket", "_info" };
    private static final String[] NO_LABELS = {};

    private enum Kind {
        COUNTER, GAUGE, HISTOGRAM
    }

    /** One call of a source, held until its {@code collect} returned. */
    private record Call(Kind kind, String name, String[] labels, double value, HistogramSample histogram) {
    }

    /** A histogram point being added up: per-bucket counts for {@code bounds} and +Inf, sum. */
    private static final class Hist {
        final double[] bounds;
        final long[] counts;
        double sum;

        Hist(HistogramSample s) {
            this.bounds = s.upperBounds();
            this.counts = s.counts();
            this.sum = s.sum();
        }
    }

    /** One family being assembled: its points by label set, and who reported it. */
    private static final class Family {
        final Kind kind;
        final Set<String> publishers = new TreeSet<>();
        final Map<Labels, double[]> values = new LinkedHashMap<>();
        final Map<Labels, Hist> hists = new LinkedHashMap<>();

        Family(Kind kind) {
            this.kind = kind;
        }

        int points() {
            return values.size() + hists.size();
        }
    }

    private final Set<String> reserved;
    private final Map<String, Family> families = new TreeMap<>();
    private final List<Call> pending = new ArrayList<>();
    private int skipped;
    private String firstProblem;

    /** @param reserved family names someone else exposes; a series using one is skipped */
    SnapshotSink(Set<String> reserved) {
        this.reserved = reserved;
    }

    @Override
    public void counter(String name, double value, String... labels) {
        pending.add(new Call(Kind.COUNTER, name, copy(labels), value, null));
    }

    @Override
    public void gauge(String name, double value, String... labels) {
        pending.add(new Call(Kind.GAUGE, name, copy(labels), value, null));
    }

    @Override
    public void histogram(String name, HistogramSample value, String... labels) {
        pending.add(new Call(Kind.HISTOGRAM, name, copy(labels), Double.NaN, value));
    }

    private static String[] copy(String[] labels) {
        return labels == null ? NO_LABELS : labels.clone();
    }

    /** Adds what {@code publisher} reported since the last commit or discard. */
    void commit(String publisher) {
        for (Call c : pending) {
            String problem = add(publisher, c);
            if (problem != null) {
                skip("'" + c.name() + "' " + Arrays.toString(c.labels()) + " from " + publisher + ": " + problem);
            }
        }
        pending.clear();
    }

    /** Forgets what the current source reported (it failed). */
    void discard() {
        pending.clear();
    }

    /** Series left out so far. */
    int skipped() {
        return skipped;
    }

    /** Why the first series was left out, or {@code null}. */
    String firstProblem() {
        return firstProblem;
    }

    private void skip(String problem) {
        skipped++;
        if (firstProblem == null) {
            firstProblem = problem;
        }
    }

    /** Adds one call; returns why it cannot be used, or {@code null}. */
    private String add(String publisher, Call c) {
        String name = c.name();
        if (name == null || !PrometheusNaming.isValidLegacyMetricName(name)) {
            return "invalid metric name";
        }
        String family = name;
        if (c.kind() == Kind.COUNTER) {
            if (!name.endsWith(TOTAL) || name.length() == TOTAL.length()) {
                return "a counter's name must end in " + TOTAL;
            }
            family = name.substring(0, name.length() - TOTAL.length());
            if (Double.isNaN(c.value()) || c.value() < 0) {
                return "counter value " + c.value();
            }
        } else {
            for (String suffix : RESERVED_SUFFIXES) {
                if (name.endsWith(suffix)) {
                    return "a " + kind(c.kind()) + " may not end in " + suffix;
                }
            }
        }
        if (c.kind() == Kind.HISTOGRAM && !finiteBounds(c.histogram())) {
            return "no histogram, or bounds that are not finite";
        }
        Labels labels;
        try {
            labels = labels(c.kind(), c.labels());
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (reserved.contains(family)) {
            return "'" + family + "' is used by the JVM metrics";
        }
        Family f = families.computeIfAbsent(family, n -> new Family(c.kind()));
        if (f.kind != c.kind()) {
            return "'" + family + "' is already a " + kind(f.kind);
        }
        if (c.kind() == Kind.HISTOGRAM) {
            String problem = addHistogram(f, labels, c.histogram());
            if (problem != null) {
                return problem;
            }
        } else {
            f.values.computeIfAbsent(labels, l -> new double[1])[0] += c.value();
        }
        f.publishers.add(publisher);
        return null;
    }

    private static boolean finiteBounds(HistogramSample h) {
        if (h == null) {
            return false;
        }
        for (double b : h.upperBounds()) {
            if (!Double.isFinite(b)) {
                return false;
            }
        }
        return true;
    }

    /** The labels of name/value pairs; throws {@link IllegalArgumentException} with the reason they cannot be used. */
    private static Labels labels(Kind kind, String[] pairs) {
        if (pairs.length % 2 != 0) {
            throw new IllegalArgumentException("labels must be name/value pairs, got " + pairs.length + " strings");
        }
        String[] names = new String[pairs.length / 2];
        String[] values = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            String n = pairs[2 * i];
            String v = pairs[2 * i + 1];
            if (n == null || v == null) {
                throw new IllegalArgumentException("null label name or value");
            }
            if (!PrometheusNaming.isValidLegacyLabelName(n) || n.startsWith("__")
                    || kind == Kind.HISTOGRAM && n.equals("le")) {
                throw new IllegalArgumentException("invalid label name '" + n + "'");
            }
            names[i] = n;
            values[i] = v;
        }
        return names.length == 0 ? Labels.EMPTY : Labels.of(names, values); // duplicates throw
    }

    private static String addHistogram(Family f, Labels labels, HistogramSample s) {
        Hist h = f.hists.get(labels);
        if (h == null) {
            f.hists.put(labels, new Hist(s));
            return null;
        }
        if (!Arrays.equals(h.bounds, s.upperBounds())) {
            return "histogram bounds differ from those of the same series already reported";
        }
        long[] counts = s.counts();
        for (int i = 0; i < counts.length; i++) {
            h.counts[i] += counts[i];
        }
        h.sum += s.sum();
        return null;
    }

    private static String kind(Kind k) {
        return k.name().toLowerCase(Locale.ROOT);
    }

    /** The families assembled, each with its HELP text; a family the library refuses is skipped whole. */
    List<MetricSnapshot> snapshots() {
        List<MetricSnapshot> out = new ArrayList<>(families.size() + 2);
        for (Map.Entry<String, Family> e : families.entrySet()) {
            String name = e.getKey();
            Family f = e.getValue();
            String help = SeriesHelp.of(name, String.join(", ", f.publishers));
            try {
                out.add(switch (f.kind) {
                    case COUNTER -> counter(name, help, f);
                    case GAUGE -> gauge(name, help, f);
                    case HISTOGRAM -> histogram(name, help, f);
                });
            } catch (IllegalArgumentException ex) {
                skipped += f.points() - 1;
                skip("family '" + name + "' from " + f.publishers + ": " + ex.getMessage());
            }
        }
        return out;
    }

    private static MetricSnapshot counter(String name, String help, Family f) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        f.values.forEach((labels, v) -> b.dataPoint(CounterDataPointSnapshot.builder().labels(labels).value(v[0]).build()));
        return b.build();
    }

    private static MetricSnapshot gauge(String name, String help, Family f) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        f.values.forEach((labels, v) -> b.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(v[0]).build()));
        return b.build();
    }

    private static MetricSnapshot histogram(String name, String help, Family f) {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help);
        f.hists.forEach((labels, h) -> b.dataPoint(HistogramDataPointSnapshot.builder().labels(labels)
                .classicHistogramBuckets(buckets(h)).sum(h.sum).build()));
        return b.build();
    }

    /** The classic buckets: the sample's bounds, then +Inf; per-bucket counts as the sample has them. */
    private static ClassicHistogramBuckets buckets(Hist h) {
        double[] bounds = Arrays.copyOf(h.bounds, h.bounds.length + 1);
        bounds[h.bounds.length] = Double.POSITIVE_INFINITY;
        return ClassicHistogramBuckets.of(bounds, h.counts);
    }
}
