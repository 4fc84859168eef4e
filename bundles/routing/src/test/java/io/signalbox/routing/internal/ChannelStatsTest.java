package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.HistogramSample;
import io.signalbox.api.MetricSamples;

class ChannelStatsTest {
    private final ChannelSpool spool = new ChannelSpool("db", null, TestSupport::settings);
    private final ChannelState state = new ChannelState("db", TestSupport::settings, spool);
    private final ChannelStats stats = new ChannelStats("db", state, spool);

    private MetricSamples collect(boolean waiting, BackendStatus.State state) {
        return MetricSamples.of(sink -> stats.collect(sink, waiting, state));
    }

    private static long value(MetricSamples samples, String name) {
        return (long) samples.value(name, "backend", "db");
    }

    @Test
    void countersAndGaugesReportWhatTheChannelCounted() {
        stats.routed(10);
        stats.routed(5);
        stats.written(8, 2_000_000, 0);
        stats.writeFailed();
        stats.spooled(7);
        stats.replayed(3);
        stats.deadLettered(2);
        state.offer(TestSupport.events("svc", 0, 4), new Completion(1, null));
        for (int i = 0; i < 5; i++) {
            state.failed(new ChannelState.Turn(null, null, false, false)); // breaker.failures=5: open
        }

        MetricSamples s = collect(true, BackendStatus.State.BREAKER_OPEN);
        assertThat(value(s, "signalbox_messages_routed_total")).isEqualTo(15);
        assertThat(value(s, "signalbox_channel_queued_messages")).isEqualTo(4);
        assertThat(value(s, "signalbox_channel_in_flight_batches")).isZero();
        assertThat(value(s, "signalbox_backend_write_failures_total")).isEqualTo(1);
        assertThat(value(s, "signalbox_backend_batches_written_total")).isEqualTo(1);
        assertThat(value(s, "signalbox_backend_messages_written_total")).as("written, not routed").isEqualTo(8);
        assertThat(value(s, "signalbox_channel_waiting_for_backend")).isEqualTo(1);
        assertThat(value(s, "signalbox_spool_appended_messages_total")).isEqualTo(7);
        assertThat(value(s, "signalbox_spool_replayed_messages_total")).isEqualTo(3);
        assertThat(value(s, "signalbox_backend_breaker_state")).isEqualTo(CircuitBreaker.State.OPEN.ordinal());
        assertThat(value(s, "signalbox_backend_breaker_opened_total")).isEqualTo(1);
        assertThat(value(s, "signalbox_backend_state")).isEqualTo(BackendStatus.State.BREAKER_OPEN.ordinal());
        assertThat(value(s, "signalbox_spool_messages")).as("no spool").isZero();
        assertThat(value(s, "signalbox_deadletter_messages_total")).isEqualTo(2);
        assertThat(stats.spooledMessages()).isEqualTo(7);
    }

    @Test
    void aWriteIsRecordedInTheLatencyHistogramsAndOnlyAReceiptTimeInThePipelineOne() {
        stats.written(1, 2_000_000, 0); // 2 ms, no receipt time
        stats.written(1, 20_000_000, System.nanoTime());

        MetricSamples s = collect(false, BackendStatus.State.UP);
        HistogramSample write = s.histogram("signalbox_backend_latency_seconds", "backend", "db");
        assertThat(write.count()).isEqualTo(2);
        assertThat(write.sum()).isEqualTo(0.022);
        assertThat(s.histogram("signalbox_pipeline_latency_seconds", "backend", "db").count()).isEqualTo(1);
        assertThat(value(s, "signalbox_channel_waiting_for_backend")).isZero();
    }

    @Test
    void theHealthLineCarriesTheSameValues() {
        stats.routed(10);
        stats.written(6, 1_000_000, 0);
        stats.writeFailed();
        state.offer(TestSupport.events("svc", 0, 3), new Completion(1, null));

        BackendStatus status = stats.status("file", BackendStatus.State.DEGRADED);
        assertThat(status).isEqualTo(new BackendStatus("db", "file", BackendStatus.State.DEGRADED, 3, 0, 0, 10, 6, 1, 0, 0));
    }
}
