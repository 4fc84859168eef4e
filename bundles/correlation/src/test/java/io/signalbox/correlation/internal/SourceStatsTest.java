package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.TestMessages.info;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-source series correlation publishes for /metrics and /api/sources. */
class SourceStatsTest {
    private final FakeClock clock = new FakeClock();
    private CorrelationEngine engine;

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.deactivate();
        }
    }

    private CorrelationEngine engine(Map<String, ?> props) {
        engine = new CorrelationEngine(TestMessages.config(props), props, RecordingRouter.deliveringAtOnce(),
                clock::millis, clock::nanos, false);
        return engine;
    }

    @Test
    void receivedAndBufferSizeArePublishedPerSource() {
        CorrelationEngine e = engine(Map.of("batch.size", 3));
        e.offer(info("billing", "1"));
        e.offer(info("billing", "2"));
        e.offer(info("billing", "3")); // cuts a batch
        e.offer(info("billing", "4"));
        e.offer(info("loader", "1"));

        assertThat(e.stats())
                .containsEntry("signalbox_messages_received_total{source=\"billing\"}", 4L)
                .containsEntry("signalbox_buffer_size{source=\"billing\"}", 1)
                .containsEntry("signalbox_messages_received_total{source=\"loader\"}", 1L)
                .containsEntry("signalbox_buffer_size{source=\"loader\"}", 1);
    }

    @Test
    void theReceivedCountSurvivesTheRetirementOfAnIdleSourcesBuffer() {
        CorrelationEngine e = engine(Map.of("batch.size", 1));
        e.offer(info("a", "1"));
        e.offer(info("a", "2"));
        clock.advanceMillis(TimeUnit.MINUTES.toMillis(CorrelationEngine.SOURCE_IDLE_MINUTES) + 1);
        e.tick();
        assertThat(e.stats()).containsEntry("signalbox_sources_active", 0)
                .containsEntry("signalbox_messages_received_total{source=\"a\"}", 2L)
                .containsEntry("signalbox_buffer_size{source=\"a\"}", 0);

        e.offer(info("a", "3"));
        assertThat(e.stats()).containsEntry("signalbox_messages_received_total{source=\"a\"}", 3L);
    }

    @Test
    void sourceNamesAreEscapedAsLabelValues() {
        CorrelationEngine e = engine(Map.of());
        e.offer(info("we\"ird\\name\n", "1"));
        assertThat(e.stats()).containsKey("signalbox_messages_received_total{source=\"we\\\"ird\\\\name\\n\"}");
        assertThat(CorrelationEngine.escapeLabel("plain")).isEqualTo("plain");
    }
}
