package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BackendWriteStatsTest {

    @Test
    void reportsTheSixSeriesOfItsKindWithTheBackendLabel() {
        BackendWriteStats s = new BackendWriteStats("postgres", "db");
        s.batch();
        s.accepted(100, 17_000);
        s.writeTime(2_500_000_000L);
        s.failure();
        MetricSamples m = MetricSamples.of(s::collect);
        assertThat(m.value("signalbox_backend_postgres_batches_total", "backend", "db")).isEqualTo(1);
        assertThat(m.value("signalbox_backend_postgres_messages_total", "backend", "db")).isEqualTo(100);
        assertThat(m.value("signalbox_backend_postgres_bytes_total", "backend", "db")).isEqualTo(17_000);
        assertThat(m.value("signalbox_backend_postgres_failures_total", "backend", "db")).isEqualTo(1);
        assertThat(m.value("signalbox_backend_postgres_write_seconds_sum", "backend", "db")).isEqualTo(2.5);
        assertThat(m.value("signalbox_backend_postgres_write_seconds_count", "backend", "db")).isEqualTo(1);
        assertThat(m.all("signalbox_backend_postgres_failures_total").get(0).type()).isEqualTo(MetricSamples.Type.COUNTER);
        assertThat(m.all("signalbox_backend_postgres_write_seconds_sum").get(0).type()).isEqualTo(MetricSamples.Type.GAUGE);
    }
}
