package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.signalbox.api.HistogramSample;
import io.signalbox.api.LatencyHistogram;
import io.signalbox.api.StatsSource;

class StatsCollectorTest {
    private static final ExpositionFormats FORMATS = ExpositionFormats.init();

    private final Map<String, StatsSource> sources = new TreeMap<>();
    private final StatsCollector collector = new StatsCollector(() -> sources, () -> Set.of("jvm_threads_current"));

    private String text() {
        return write(FORMATS.getPrometheusTextFormatWriter());
    }

    private String write(ExpositionFormatWriter writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, collector.collect());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static MetricSnapshot family(MetricSnapshots all, String name) {
        return all.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no family " + name + " in " + all.stream()
                        .map(s -> s.getMetadata().getName()).toList()));
    }

    private static double skipped(MetricSnapshots all) {
        return ((GaugeSnapshot) family(all, StatsCollector.SKIPPED)).getDataPoints().get(0).getValue();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = StatsCollectorTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void typicalSeriesAreWrittenExactlyAsBeforeTheMetricsWereTyped() throws IOException {
        sources.putAll(TypicalSeries.byComponent());

        assertThat(text()).isEqualTo(resource("typical-series.prom"));
        assertThat(write(FORMATS.getOpenMetricsTextFormatWriter())).isEqualTo(resource("typical-series.om"));
    }

    @Test
    void aCounterIsTheFamilyWithoutTotalAndAGaugeStaysAGauge() {
        sources.put("tcp", sink -> {
            sink.gauge("signalbox_active_connections", 3);
            sink.counter("signalbox_messages_received_total", 42, "source", "billing");
            sink.gauge("signalbox_buffer_size", 7, "source", "billing");
        });
        MetricSnapshots all = collector.collect();

        CounterSnapshot received = (CounterSnapshot) family(all, "signalbox_messages_received");
        assertThat(received.getDataPoints()).singleElement().satisfies(p -> {
            assertThat((Object) p.getLabels()).isEqualTo(Labels.of("source", "billing"));
            assertThat(p.getValue()).isEqualTo(42.0);
        });
        assertThat(family(all, "signalbox_buffer_size")).isInstanceOf(GaugeSnapshot.class);
        assertThat(((GaugeSnapshot) family(all, "signalbox_active_connections")).getDataPoints().get(0).getValue())
                .isEqualTo(3.0);
        assertThat(skipped(all)).isZero();
    }

    @Test
    void aLatencyHistogramIsOneClassicHistogramPerLabelSetWithInfLast() {
        LatencyHistogram db = new LatencyHistogram();
        db.record(TimeUnit.MICROSECONDS.toNanos(300)); // <= 0.0005
        db.record(TimeUnit.MILLISECONDS.toNanos(20)); // <= 0.025
        db.record(TimeUnit.MILLISECONDS.toNanos(20));
        db.record(TimeUnit.SECONDS.toNanos(120)); // +Inf
        LatencyHistogram files = new LatencyHistogram();
        files.record(TimeUnit.MILLISECONDS.toNanos(2));
        LatencyHistogram pipeline = new LatencyHistogram();
        pipeline.record(TimeUnit.MILLISECONDS.toNanos(70));
        sources.put("routing", sink -> {
            db.collect(sink, "signalbox_backend_latency_seconds", "backend", "db");
            files.collect(sink, "signalbox_backend_latency_seconds", "backend", "files");
            pipeline.collect(sink, "signalbox_pipeline_latency_seconds");
        });

        MetricSnapshots all = collector.collect();
        HistogramSnapshot h = (HistogramSnapshot) family(all, "signalbox_backend_latency_seconds");
        assertThat(h.getDataPoints()).hasSize(2);
        HistogramDataPointSnapshot p = h.getDataPoints().stream()
                .filter(d -> d.getLabels().equals(Labels.of("backend", "db"))).findFirst().orElseThrow();
        ClassicHistogramBuckets b = p.getClassicBuckets();
        assertThat(b.size()).isEqualTo(LatencyHistogram.BOUNDS.length + 1);
        assertThat(b.getUpperBound(0)).isEqualTo(0.0005);
        assertThat(b.getCount(0)).isEqualTo(1); // per bucket, not cumulative
        assertThat(b.getCount(5)).isEqualTo(2); // le=0.025
        assertThat(b.getUpperBound(b.size() - 1)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(b.getCount(b.size() - 1)).isEqualTo(1);
        assertThat(p.getCount()).isEqualTo(4);
        assertThat(p.getSum()).isCloseTo(120.0403, Offset.offset(1e-9));
        assertThat(family(all, "signalbox_pipeline_latency_seconds")).isInstanceOf(HistogramSnapshot.class);
        assertThat(skipped(all)).isZero();

        assertThat(text()).contains("signalbox_backend_latency_seconds_bucket{backend=\"db\",le=\"0.025\"} 3\n",
                "signalbox_backend_latency_seconds_bucket{backend=\"db\",le=\"+Inf\"} 4\n",
                "signalbox_backend_latency_seconds_count{backend=\"db\"} 4\n",
                "signalbox_pipeline_latency_seconds_bucket{le=\"0.1\"} 1\n");
    }

    @Test
    void theSameSeriesFromTwoComponentsIsAddedUp() {
        HistogramSample h = new HistogramSample(new double[] { 1 }, new long[] { 2, 1 }, 4.5);
        sources.put("tcp", sink -> {
            sink.counter("signalbox_messages_dropped_total", 2, "reason", "malformed");
            sink.gauge("signalbox_active_connections", 1);
            sink.histogram("signalbox_x_seconds", h, "backend", "db");
        });
        sources.put("http", sink -> {
            sink.counter("signalbox_messages_dropped_total", 3, "reason", "malformed");
            sink.counter("signalbox_messages_dropped_total", 1, "reason", "too_long");
            sink.gauge("signalbox_active_connections", 4);
            sink.histogram("signalbox_x_seconds", h, "backend", "db");
        });
        MetricSnapshots all = collector.collect();

        CounterSnapshot dropped = (CounterSnapshot) family(all, "signalbox_messages_dropped");
        assertThat(dropped.getDataPoints()).hasSize(2).anySatisfy(p -> {
            assertThat((Object) p.getLabels()).isEqualTo(Labels.of("reason", "malformed"));
            assertThat(p.getValue()).isEqualTo(5.0);
        });
        assertThat(((GaugeSnapshot) family(all, "signalbox_active_connections")).getDataPoints().get(0).getValue())
                .isEqualTo(5.0);
        HistogramDataPointSnapshot x = ((HistogramSnapshot) family(all, "signalbox_x_seconds")).getDataPoints().get(0);
        assertThat(x.getCount()).isEqualTo(6);
        assertThat(x.getClassicBuckets().getCount(0)).isEqualTo(4);
        assertThat(x.getSum()).isEqualTo(9.0);
        assertThat(dropped.getMetadata().getHelp()).contains("per reason");
    }

    @Test
    void unusableSeriesAreSkippedAndCountedAndTheRestIsKept() {
        HistogramSample h = new HistogramSample(new double[] { 1 }, new long[] { 1, 0 }, 1);
        sources.put("bad", sink -> {
            sink.counter("signalbox_ok_total", 1);
            sink.gauge("signalbox bad name", 1); // invalid name
            sink.gauge("signalbox_x", 1, "so urce", "a"); // invalid label name
            sink.gauge("signalbox_x", 1, "__source", "a"); // reserved label name
            sink.gauge("signalbox_x", 1, "source"); // not name/value pairs
            sink.gauge("signalbox_x", 1, "source", null); // no value
            sink.gauge("signalbox_x", 1, "source", "a", "source", "b"); // a label twice
            sink.counter("signalbox_counted", 1); // a counter without _total
            sink.counter("signalbox_negative_total", -1); // counter below zero
            sink.counter("signalbox_nan_total", Double.NaN); // counter NaN
            sink.gauge("signalbox_gauge_total", 1); // a gauge named like a counter
            sink.gauge("signalbox_ok", 2); // gauge clashing with the counter family signalbox_ok
            sink.gauge("jvm_threads_current", 5); // a JVM family
            sink.histogram("signalbox_h_seconds", h, "le", "1"); // le is the histogram's own
            sink.histogram("signalbox_h_seconds", h);
            sink.histogram("signalbox_h_seconds", new HistogramSample(new double[] { 2 }, new long[] { 1, 0 }, 1)); // other bounds
            sink.histogram("signalbox_null_seconds", null);
            sink.gauge("signalbox_fine", 1.5);
        });

        MetricSnapshots all = collector.collect();
        assertThat(skipped(all)).isEqualTo(15);
        assertThat(all.stream().map(s -> s.getMetadata().getName())).contains("signalbox_ok", "signalbox_fine",
                "signalbox_h_seconds").doesNotContain("signalbox_x", "signalbox_counted", "signalbox_negative",
                        "signalbox_nan", "signalbox_gauge_total", "signalbox_gauge", "jvm_threads_current",
                        "signalbox_null_seconds");
        assertThat(family(all, "signalbox_ok")).isInstanceOf(CounterSnapshot.class);
        assertThat(((HistogramSnapshot) family(all, "signalbox_h_seconds")).getDataPoints()).singleElement()
                .satisfies(p -> assertThat(p.getCount()).isEqualTo(1));
        assertThat(text()).contains("signalbox_fine 1.5\n", "signalbox_metrics_skipped_series 15.0\n");
    }

    @Test
    void aFailingComponentIsLeftOutWholeAndCounted() {
        sources.put("broken", sink -> {
            sink.gauge("signalbox_half_done", 1);
            throw new IllegalStateException("boom");
        });
        sources.put("fine", sink -> sink.gauge("signalbox_fine", 1));
        MetricSnapshots first = collector.collect();
        assertThat(family(first, "signalbox_fine")).isNotNull();
        assertThat(first.stream().map(s -> s.getMetadata().getName())).doesNotContain("signalbox_half_done");
        collector.collect();
        CounterSnapshot failures = (CounterSnapshot) family(collector.collect(), StatsCollector.FAILURES);
        assertThat(failures.getDataPoints().get(0).getValue()).isEqualTo(3.0);
    }

    @Test
    void labelValuesWithNewlinesQuotesAndBackslashesAreEscapedByTheLibrary() {
        sources.put("c", sink -> sink.gauge("signalbox_buffer_size", 1, "source", "we\"ird\\src\nx"));
        assertThat(text()).contains("signalbox_buffer_size{source=\"we\\\"ird\\\\src\\nx\"} 1.0\n");
    }

    @Test
    void unknownFamiliesGetAHelpTextNamingTheirPublisher() {
        sources.put("io.signalbox.backend.file",
                sink -> sink.counter("signalbox_file_rotations_total", 1, "backend", "files"));
        assertThat(text()).contains(
                "# HELP signalbox_file_rotations_total Signalbox series from io.signalbox.backend.file.\n");
    }
}
