package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.signalbox.api.LatencyHistogram;
import io.signalbox.api.StatsSource;

class StatsCollectorTest {
    private final Map<String, StatsSource> sources = new TreeMap<>();
    private final StatsCollector collector = new StatsCollector(() -> sources, () -> Set.of("jvm_threads_current"));

    private MetricSnapshots collect() {
        return collector.collect();
    }

    private String text() {
        return ExpositionFormats.init().getPrometheusTextFormatWriter().toDebugString(collect());
    }

    private static MetricSnapshot family(MetricSnapshots all, String name) {
        return all.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no family " + name + " in " + all.stream()
                        .map(s -> s.getMetadata().getName()).toList()));
    }

    private static double skipped(MetricSnapshots all) {
        return ((GaugeSnapshot) family(all, StatsCollector.SKIPPED)).getDataPoints().get(0).getValue();
    }

    private static Map<String, Number> map(Object... kv) {
        Map<String, Number> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Number) kv[i + 1]);
        }
        return m;
    }

    @Test
    void totalSuffixMakesACounterAndEverythingElseAGauge() {
        sources.put("tcp", () -> map("signalbox_active_connections", 3,
                "signalbox_messages_received_total{source=\"billing\"}", 42L,
                "signalbox_buffer_size{source=\"billing\"}", 7));
        MetricSnapshots all = collect();

        CounterSnapshot received = (CounterSnapshot) family(all, "signalbox_messages_received");
        assertThat(received.getDataPoints()).singleElement().satisfies(p -> {
            assertThat((Object) p.getLabels()).isEqualTo(Labels.of("source", "billing"));
            assertThat(p.getValue()).isEqualTo(42.0);
        });
        assertThat(family(all, "signalbox_buffer_size")).isInstanceOf(GaugeSnapshot.class);
        assertThat(((GaugeSnapshot) family(all, "signalbox_active_connections")).getDataPoints().get(0).getValue())
                .isEqualTo(3.0);
        assertThat(skipped(all)).isZero();

        String text = text();
        assertThat(text).contains("# TYPE signalbox_messages_received_total counter\n",
                "signalbox_messages_received_total{source=\"billing\"} 42.0\n",
                "# TYPE signalbox_buffer_size gauge\n", "signalbox_buffer_size{source=\"billing\"} 7.0\n",
                "# HELP signalbox_active_connections Open client connections.\n");
    }

    @Test
    void latencyHistogramSeriesBecomeOneClassicHistogramPerLabelSet() {
        LatencyHistogram db = new LatencyHistogram();
        db.record(TimeUnit.MICROSECONDS.toNanos(300)); // <= 0.0005
        db.record(TimeUnit.MILLISECONDS.toNanos(20)); // <= 0.025
        db.record(TimeUnit.MILLISECONDS.toNanos(20));
        db.record(TimeUnit.SECONDS.toNanos(120)); // +Inf
        LatencyHistogram files = new LatencyHistogram();
        files.record(TimeUnit.MILLISECONDS.toNanos(2));
        Map<String, Number> stats = new LinkedHashMap<>();
        db.putInto(stats, "signalbox_backend_latency_seconds", "backend=\"db\"");
        files.putInto(stats, "signalbox_backend_latency_seconds", "backend=\"files\"");
        LatencyHistogram pipeline = new LatencyHistogram();
        pipeline.record(TimeUnit.MILLISECONDS.toNanos(70));
        pipeline.putInto(stats, "signalbox_pipeline_latency_seconds", "");
        sources.put("routing", () -> stats);

        MetricSnapshots all = collect();
        HistogramSnapshot h = (HistogramSnapshot) family(all, "signalbox_backend_latency_seconds");
        assertThat(h.getDataPoints()).hasSize(2);
        HistogramSnapshot.HistogramDataPointSnapshot p = h.getDataPoints().stream()
                .filter(d -> d.getLabels().equals(Labels.of("backend", "db"))).findFirst().orElseThrow();
        ClassicHistogramBuckets b = p.getClassicBuckets();
        assertThat(b.size()).isEqualTo(LatencyHistogram.BOUNDS.length + 1);
        assertThat(b.getUpperBound(0)).isEqualTo(0.0005);
        assertThat(b.getCount(0)).isEqualTo(1); // per bucket, not cumulative
        assertThat(b.getCount(5)).isEqualTo(2); // le=0.025
        assertThat(b.getUpperBound(b.size() - 1)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(b.getCount(b.size() - 1)).isEqualTo(1);
        assertThat(p.getCount()).isEqualTo(4);
        assertThat(p.getSum()).isCloseTo(120.0403, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(family(all, "signalbox_pipeline_latency_seconds")).isInstanceOf(HistogramSnapshot.class);
        assertThat(skipped(all)).isZero();

        String text = text();
        assertThat(text).contains("# TYPE signalbox_backend_latency_seconds histogram\n",
                "signalbox_backend_latency_seconds_bucket{backend=\"db\",le=\"0.025\"} 3\n",
                "signalbox_backend_latency_seconds_bucket{backend=\"db\",le=\"+Inf\"} 4\n",
                "signalbox_backend_latency_seconds_count{backend=\"db\"} 4\n",
                "signalbox_pipeline_latency_seconds_bucket{le=\"0.1\"} 1\n");
        assertThat(text).doesNotContain("# TYPE signalbox_backend_latency_seconds_bucket",
                "# TYPE signalbox_backend_latency_seconds_sum", "# TYPE signalbox_backend_latency_seconds_count");
    }

    @Test
    void histogramWithoutInfBucketTakesItFromCount() {
        sources.put("x", () -> map("signalbox_x_seconds_bucket{le=\"1.0\"}", 2, "signalbox_x_seconds_count", 5,
                "signalbox_x_seconds_sum", 9.5));
        HistogramSnapshot h = (HistogramSnapshot) family(collect(), "signalbox_x_seconds");
        assertThat(h.getDataPoints().get(0).getCount()).isEqualTo(5);
        assertThat(h.getDataPoints().get(0).getClassicBuckets().getCount(1)).isEqualTo(3);
    }

    @Test
    void theSameSeriesFromTwoComponentsIsAddedUp() {
        sources.put("tcp", () -> map("signalbox_messages_dropped_total{reason=\"malformed\"}", 2,
                "signalbox_active_connections", 1));
        sources.put("http", () -> map("signalbox_messages_dropped_total{reason=\"malformed\"}", 3,
                "signalbox_messages_dropped_total{reason=\"too_long\"}", 1, "signalbox_active_connections", 4));
        MetricSnapshots all = collect();
        CounterSnapshot dropped = (CounterSnapshot) family(all, "signalbox_messages_dropped");
        assertThat(dropped.getDataPoints()).hasSize(2).anySatisfy(p -> {
            assertThat((Object) p.getLabels()).isEqualTo(Labels.of("reason", "malformed"));
            assertThat(p.getValue()).isEqualTo(5.0);
        });
        assertThat(((GaugeSnapshot) family(all, "signalbox_active_connections")).getDataPoints().get(0).getValue())
                .isEqualTo(5.0);
        assertThat(dropped.getMetadata().getHelp()).contains("per reason");
    }

    @Test
    void badKeysAreSkippedAndCountedAndTheRestIsKept() {
        Map<String, Number> stats = new LinkedHashMap<>();
        stats.put("signalbox_ok_total", 1);
        stats.put("signalbox bad name", 1); // invalid name
        stats.put("signalbox_x{source=\"unclosed}", 1); // malformed labels
        stats.put("signalbox_negative_total", -1); // counter below zero
        stats.put("signalbox_nan_total", Double.NaN); // counter NaN
        stats.put("signalbox_lonely_bucket", 3); // _bucket without le
        stats.put("signalbox_ok", 2); // gauge clashing with the counter family signalbox_ok
        stats.put("jvm_threads_current", 5); // a JVM family
        stats.put("signalbox_null", null); // no value
        stats.put("signalbox_down_seconds_bucket{le=\"1\"}", 5); // decreasing cumulative counts
        stats.put("signalbox_down_seconds_bucket{le=\"+Inf\"}", 4);
        stats.put("signalbox_fine", 1.5);
        sources.put("bad", () -> stats);

        MetricSnapshots all = collect();
        assertThat(skipped(all)).isEqualTo(10);
        assertThat(all.stream().map(s -> s.getMetadata().getName())).contains("signalbox_ok", "signalbox_fine")
                .doesNotContain("signalbox_negative", "signalbox_nan", "signalbox_lonely_bucket", "jvm_threads_current",
                        "signalbox_down_seconds", "signalbox_null");
        assertThat(family(all, "signalbox_ok")).isInstanceOf(CounterSnapshot.class);
        assertThat(text()).contains("signalbox_fine 1.5\n", "signalbox_metrics_skipped_series 10.0\n");
    }

    @Test
    void aFailingComponentIsLeftOutAndCounted() {
        sources.put("broken", () -> {
            throw new IllegalStateException("boom");
        });
        sources.put("nothing", () -> null);
        sources.put("fine", () -> map("signalbox_fine", 1));
        MetricSnapshots first = collect();
        assertThat(family(first, "signalbox_fine")).isNotNull();
        collect();
        CounterSnapshot failures = (CounterSnapshot) family(collect(), StatsCollector.FAILURES);
        assertThat(failures.getDataPoints().get(0).getValue()).isEqualTo(3.0);
    }

    @Test
    void labelValuesAreEscapedByTheWriter() {
        sources.put("c", () -> map("signalbox_buffer_size{source=\"we\\\"ird\\\\src\\nx\"}", 1));
        assertThat(text()).contains("signalbox_buffer_size{source=\"we\\\"ird\\\\src\\nx\"} 1.0\n");
    }

    @Test
    void unknownFamiliesGetAHelpTextNamingTheirPublisher() {
        sources.put("io.signalbox.backend.file", () -> map("signalbox_file_rotations_total{backend=\"files\"}", 1));
        assertThat(text()).contains(
                "# HELP signalbox_file_rotations_total Signalbox series from io.signalbox.backend.file.\n");
    }
}
