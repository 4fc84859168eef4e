package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MetricSamplesTest {

    @Test
    void keepsTypeLabelsAndValuesAndAddsUpRepeatedSeries() {
        MetricSamples s = MetricSamples.of(sink -> {
            sink.counter("signalbox_messages_dropped_total", 2, "reason", "malformed");
            sink.counter("signalbox_messages_dropped_total", 3, "reason", "malformed");
            sink.counter("signalbox_messages_dropped_total", 1, "reason", "too_long");
            sink.gauge("signalbox_backend_breaker_state", 1, "backend", "db\nx");
        });
        assertThat(s.value("signalbox_messages_dropped_total", "reason", "malformed")).isEqualTo(5);
        assertThat(s.sum("signalbox_messages_dropped_total")).isEqualTo(6);
        assertThat(s.byLabel("signalbox_messages_dropped_total", "reason"))
                .containsExactly(java.util.Map.entry("malformed", 5.0), java.util.Map.entry("too_long", 1.0));
        assertThat(s.value("signalbox_backend_breaker_state", "backend", "db\nx")).isEqualTo(1);
        assertThat(s.all("signalbox_backend_breaker_state").get(0).type()).isEqualTo(MetricSamples.Type.GAUGE);
        assertThat(s.find("signalbox_backend_breaker_state")).isEmpty();
        assertThat(s.valueOr("nope", -1)).isEqualTo(-1);
        assertThatThrownBy(() -> s.value("nope")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("signalbox_messages_dropped_total");
    }

    @Test
    void labelsMustComeInPairs() {
        MetricSamples s = new MetricSamples();
        assertThatThrownBy(() -> s.gauge("x", 1, "backend")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void latencyHistogramReportsPerBucketCountsAndSeconds() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(100_000); // 0.1 ms → first bucket
        h.record(2_000_000); // 2 ms → le 0.0025
        h.record(120_000_000_000L); // 2 min → +Inf
        MetricSamples s = MetricSamples.of(sink -> h.collect(sink, "signalbox_backend_latency_seconds", "backend", "db"));
        HistogramSample hs = s.histogram("signalbox_backend_latency_seconds", "backend", "db");
        assertThat(hs.count()).isEqualTo(3);
        assertThat(hs.counts()[0]).isEqualTo(1);
        assertThat(hs.cumulative(2)).isEqualTo(2);
        assertThat(hs.counts()[LatencyHistogram.BOUNDS.length]).isEqualTo(1);
        assertThat(hs.sum()).isEqualTo(120.0021, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(s.value("signalbox_backend_latency_seconds", "backend", "db")).isEqualTo(3);
    }

    @Test
    void histogramSamplesCheckTheirShape() {
        assertThatThrownBy(() -> new HistogramSample(new double[] {1, 2}, new long[] {1, 2}, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HistogramSample(new double[] {2, 1}, new long[] {1, 2, 3}, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
