package io.signalbox.http.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;

/**
 * Turns the {@code Map<String, Number>} of every {@link StatsSource} into Prometheus client
 * snapshots (the library writes the exposition format and escapes the label values).
 *
 * <p>Keys are {@code name} or {@code name{label="value",…}}. The type comes from the name:
 * <ul>
 * <li>{@code <base>_bucket{…,le="…"}} (cumulative), {@code <base>_sum}, {@code <base>_count}: one
 * classic histogram {@code <base>} per label set (what {@code LatencyHistogram} publishes);</li>
 * <li>{@code …_total}: a counter;</li>
 * <li>anything else: a gauge.</li>
 * </ul>
 * The same series published by two components (e.g. drops by reason from the TCP and the HTTP
 * ingest) is added up. A key that cannot be used (malformed, invalid name, a counter going
 * negative, a name already used with another type or by the JVM metrics, a histogram without
 * consistent buckets) is left out, counted in {@value #SKIPPED} and logged, rate-limited: one bad
 * series never costs the rest of the answer. A component whose {@code stats()} throws is counted
 * in {@value #FAILURES} and left out.
 */
final class StatsCollector implements MultiCollector {
    /** Series left out of the last answer. */
    static final String SKIPPED = "signalbox_metrics_skipped_series";
    /** Failed {@code stats()} calls (a counter: the family name, without {@code _total}). */
    static final String FAILURES = "signalbox_metrics_source_failures";

    private static final Logger LOG = LoggerFactory.getLogger(StatsCollector.class);
    private static final String BUCKET = "_bucket";
    private static final String SUM = "_sum";
    private static final String COUNT = "_count";
    private static final String TOTAL = "_total";
    private static final String LE = "le";

    private final Supplier<? extends Map<String, ? extends StatsSource>> sources;
    private final Supplier<? extends Set<String>> reserved;
    private final RateLimitedLog warnings = new RateLimitedLog(LOG);
    private final LongAdder failures = new LongAdder();

    /**
     * @param sources  the current stats sources by name (a component name, for logs and HELP)
     * @param reserved family names someone else exposes (the JVM metrics); a series using one is skipped
     */
    StatsCollector(Supplier<? extends Map<String, ? extends StatsSource>> sources,
            Supplier<? extends Set<String>> reserved) {
        this.sources = sources;
        this.reserved = reserved;
    }

    @Override
    public MetricSnapshots collect() {
        Conversion c = new Conversion(reserved.get());
        for (Map.Entry<String, ? extends StatsSource> e : sources.get().entrySet()) {
            Map<String, Number> stats;
            try {
                stats = e.getValue().stats();
            } catch (RuntimeException | LinkageError ex) {
                failures.increment();
                warnings.warn("source " + e.getKey(), "Stats of {} could not be read for /metrics: {}", e.getKey(),
                        ex.toString(), ex);
                continue;
            }
            if (stats != null) {
                c.addAll(e.getKey(), stats);
            }
        }
        List<MetricSnapshot> out = c.snapshots();
        out.add(GaugeSnapshot.builder().name(SKIPPED).help(SeriesHelp.of(SKIPPED, ""))
                .dataPoint(GaugeDataPointSnapshot.builder().value(c.skipped).build()).build());
        out.add(CounterSnapshot.builder().name(FAILURES).help(SeriesHelp.of(FAILURES, ""))
                .dataPoint(CounterDataPointSnapshot.builder().value(failures.sum()).build()).build());
        if (c.skipped > 0) {
            warnings.warn("skipped", "/metrics left out {} series, e.g. {}", c.skipped, c.firstProblem);
        }
        return new MetricSnapshots(out);
    }

    private enum Kind {
        COUNTER, GAUGE, HISTOGRAM
    }

    /** One family being assembled: its points by label set, and who published it. */
    private static final class Family {
        final Kind kind;
        final Set<String> publishers = new TreeSet<>();
        /** Counter and gauge values. */
        final Map<Labels, double[]> values = new LinkedHashMap<>();
        /** Histogram points. */
        final Map<Labels, Hist> hists = new LinkedHashMap<>();

        Family(Kind kind) {
            this.kind = kind;
        }
    }

    /** A histogram point: cumulative counts by upper bound, sum, count. */
    private static final class Hist {
        final TreeMap<Double, Double> cumulative = new TreeMap<>();
        double sum = Double.NaN;
        double count = Double.NaN;
        /** Keys that built it, so a point found inconsistent counts all of them as skipped. */
        int series;
    }

    /** One answer's worth of conversion. Not thread-safe; made per collect(). */
    static final class Conversion {
        private final Set<String> reserved;
        private final Map<String, Family> families = new TreeMap<>();
        int skipped;
        String firstProblem;

        Conversion(Set<String> reserved) {
            this.reserved = reserved;
        }

        void addAll(String publisher, Map<String, Number> stats) {
            // histogram bases first: which _sum/_count keys belong to a histogram depends on them
            Map<String, MetricKey> parsed = new LinkedHashMap<>();
            Set<String> histBases = new TreeSet<>();
            for (Map.Entry<String, Number> e : stats.entrySet()) {
                MetricKey k;
                try {
                    k = MetricKey.parse(e.getKey());
                } catch (MetricKey.BadKey bad) {
                    skip(publisher, e.getKey(), bad.getMessage());
                    continue;
                }
                parsed.put(e.getKey(), k);
                if (k.name().endsWith(BUCKET) && k.label(LE) != null) {
                    histBases.add(base(k.name(), BUCKET));
                }
            }
            for (Map.Entry<String, MetricKey> e : parsed.entrySet()) {
                add(publisher, e.getKey(), e.getValue(), stats.get(e.getKey()), histBases);
            }
        }

        private void add(String publisher, String key, MetricKey k, Number number, Set<String> histBases) {
            if (number == null) {
                skip(publisher, key, "no value");
                return;
            }
            double v = number.doubleValue();
            String name = k.name();
            String histBase = histogramBase(name, histBases);
            if (histBase != null) {
                addHistogramPart(publisher, key, k, histBase, v);
            } else if (name.endsWith(TOTAL)) {
                if (Double.isNaN(v) || v < 0) {
                    skip(publisher, key, "counter value " + v);
                    return;
                }
                addValue(publisher, key, k, base(name, TOTAL), Kind.COUNTER, v);
            } else if (name.endsWith(BUCKET) || name.endsWith("_created") || name.endsWith("_info")) {
                skip(publisher, key, "reserved suffix without histogram buckets");
            } else {
                addValue(publisher, key, k, name, Kind.GAUGE, v);
            }
        }

        private static String histogramBase(String name, Set<String> histBases) {
            for (String suffix : new String[] { BUCKET, SUM, COUNT }) {
                if (name.endsWith(suffix)) {
                    String b = base(name, suffix);
                    return histBases.contains(b) ? b : null;
                }
            }
            return null;
        }

        private void addValue(String publisher, String key, MetricKey k, String familyName, Kind kind, double v) {
            Family f = family(publisher, key, familyName, kind);
            Labels labels = labels(publisher, key, k);
            if (f == null || labels == null) {
                return;
            }
            f.publishers.add(publisher);
            f.values.computeIfAbsent(labels, l -> new double[1])[0] += v;
        }

        private void addHistogramPart(String publisher, String key, MetricKey k, String base, double v) {
            Family f = family(publisher, key, base, Kind.HISTOGRAM);
            if (f == null) {
                return;
            }
            String name = k.name();
            if (name.endsWith(BUCKET)) {
                String le = k.label(LE);
                double bound;
                try {
                    bound = le == null ? Double.NaN : Double.parseDouble(le.equals("+Inf") ? "Infinity" : le);
                } catch (NumberFormatException e) {
                    bound = Double.NaN;
                }
                if (Double.isNaN(bound) || Double.isNaN(v) || v < 0) {
                    skip(publisher, key, "bucket le=" + le + " value " + v);
                    return;
                }
                Labels labels = labels(publisher, key, k.without(LE));
                if (labels == null) {
                    return;
                }
                Hist h = f.hists.computeIfAbsent(labels, l -> new Hist());
                h.cumulative.merge(bound, v, Double::sum);
                h.series++;
            } else {
                if (k.label(LE) != null) {
                    skip(publisher, key, "le label on " + name);
                    return;
                }
                Labels labels = labels(publisher, key, k);
                if (labels == null) {
                    return;
                }
                Hist h = f.hists.computeIfAbsent(labels, l -> new Hist());
                if (name.endsWith(SUM)) {
                    h.sum = Double.isNaN(h.sum) ? v : h.sum + v;
                } else {
                    h.count = Double.isNaN(h.count) ? v : h.count + v;
                }
                h.series++;
            }
            f.publishers.add(publisher);
        }

        /** The family {@code name} of {@code kind}, or {@code null} (and skipped) if the name is taken otherwise. */
        private Family family(String publisher, String key, String name, Kind kind) {
            if (reserved.contains(name)) {
                skip(publisher, key, "name '" + name + "' is used by the JVM metrics");
                return null;
            }
            Family f = families.computeIfAbsent(name, n -> new Family(kind));
            if (f.kind != kind) {
                skip(publisher, key, "'" + name + "' is already a " + f.kind.name().toLowerCase(java.util.Locale.ROOT));
                return null;
            }
            return f;
        }

        private Labels labels(String publisher, String key, MetricKey k) {
            try {
                return Labels.of(k.labelNames(), k.labelValues());
            } catch (IllegalArgumentException e) {
                skip(publisher, key, e.getMessage());
                return null;
            }
        }

        void skip(String publisher, String key, String reason) {
            skipped++;
            if (firstProblem == null) {
                firstProblem = "'" + key + "' from " + publisher + ": " + reason;
            }
        }

        List<MetricSnapshot> snapshots() {
            List<MetricSnapshot> out = new ArrayList<>(families.size() + 2);
            for (Map.Entry<String, Family> e : families.entrySet()) {
                String name = e.getKey();
                Family f = e.getValue();
                String help = SeriesHelp.of(name, String.join(", ", f.publishers));
                try {
                    MetricSnapshot s = switch (f.kind) {
                        case COUNTER -> counter(name, help, f);
                        case GAUGE -> gauge(name, help, f);
                        case HISTOGRAM -> histogram(name, help, f);
                    };
                    if (s != null) {
                        out.add(s);
                    }
                } catch (IllegalArgumentException ex) {
                    skipped += f.values.size() + f.hists.values().stream().mapToInt(h -> h.series).sum();
                    if (firstProblem == null) {
                        firstProblem = "family '" + name + "' from " + f.publishers + ": " + ex.getMessage();
                    }
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

        private MetricSnapshot histogram(String name, String help, Family f) {
            HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help);
            int points = 0;
            for (Map.Entry<Labels, Hist> e : f.hists.entrySet()) {
                Hist h = e.getValue();
                ClassicHistogramBuckets buckets = buckets(h);
                if (buckets == null) {
                    skipped += h.series;
                    if (firstProblem == null) {
                        firstProblem = "histogram '" + name + e.getKey() + "' from " + f.publishers
                                + ": buckets missing or not cumulative";
                    }
                    continue;
                }
                HistogramDataPointSnapshot.Builder p = HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(buckets).labels(e.getKey());
                if (!Double.isNaN(h.sum)) {
                    p.sum(h.sum);
                }
                b.dataPoint(p.build());
                points++;
            }
            return points == 0 ? null : b.build();
        }

        /**
         * Per-bucket counts from the cumulative ones; {@code +Inf} from {@code _count} if it was not
         * published; {@code null} if there is nothing to build from or the counts decrease.
         */
        private static ClassicHistogramBuckets buckets(Hist h) {
            TreeMap<Double, Double> cum = new TreeMap<>(h.cumulative);
            if (!cum.containsKey(Double.POSITIVE_INFINITY)) {
                if (Double.isNaN(h.count)) {
                    return null;
                }
                cum.put(Double.POSITIVE_INFINITY, h.count);
            }
            double[] bounds = new double[cum.size()];
            long[] counts = new long[cum.size()];
            double previous = 0;
            int i = 0;
            for (Map.Entry<Double, Double> e : cum.entrySet()) {
                double c = e.getValue();
                if (c < previous) {
                    return null;
                }
                bounds[i] = e.getKey();
                counts[i] = Math.round(c - previous);
                previous = c;
                i++;
            }
            return ClassicHistogramBuckets.of(bounds, counts);
        }

        private static String base(String name, String suffix) {
            return name.substring(0, name.length() - suffix.length());
        }
    }
}
