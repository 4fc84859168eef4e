package io.signalbox.http.internal;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;

/**
 * Collects every {@link StatsSource} into Prometheus client snapshots for {@code /metrics}: each
 * source's {@code collect} goes into one {@link SnapshotSink}, which builds the snapshots from the
 * typed calls (the library writes the exposition format and escapes label values).
 *
 * <p>A series that cannot be used is left out, counted in {@value #SKIPPED} and logged,
 * rate-limited: one bad series never costs the rest of the answer. A source whose
 * {@code collect} throws is left out whole and counted in {@value #FAILURES}.
 */
final class StatsCollector implements MultiCollector {
    /** Series left out of the last answer. */
    static final String SKIPPED = "signalbox_metrics_skipped_series";
    /** Failed {@code collect} calls (a counter: the family name, without {@code _total}). */
    static final String FAILURES = "signalbox_metrics_source_failures";

    private static final Logger LOG = LoggerFactory.getLogger(StatsCollector.class);

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
        Set<String> taken = new HashSet<>(reserved.get());
        taken.add(SKIPPED);
        taken.add(FAILURES);
        SnapshotSink sink = new SnapshotSink(taken);
        for (Map.Entry<String, ? extends StatsSource> e : sources.get().entrySet()) {
            try {
                e.getValue().collect(sink);
            } catch (RuntimeException | LinkageError ex) {
                sink.discard();
                failures.increment();
                warnings.warn("source " + e.getKey(), "Stats of {} could not be read for /metrics: {}", e.getKey(),
                        ex.toString(), ex);
                continue;
            }
            sink.commit(e.getKey());
        }
        List<MetricSnapshot> out = sink.snapshots();
        out.add(GaugeSnapshot.builder().name(SKIPPED).help(SeriesHelp.of(SKIPPED, ""))
                .dataPoint(GaugeDataPointSnapshot.builder().value(sink.skipped()).build()).build());
        out.add(CounterSnapshot.builder().name(FAILURES).help(SeriesHelp.of(FAILURES, ""))
                .dataPoint(CounterDataPointSnapshot.builder().value(failures.sum()).build()).build());
        if (sink.skipped() > 0) {
            warnings.warn("skipped", "/metrics left out {} series, e.g. {}", sink.skipped(), sink.firstProblem());
        }
        return new MetricSnapshots(out);
    }
}
