package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.Engines.metric;
import static io.signalbox.correlation.internal.TestMessages.info;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.MetricSamples;

/** The per-source series correlation publishes for /metrics and /api/sources. */
class SourceStatsTest {
    private static final String RECEIVED = ReceivedCounters.RECEIVED;
    private static final String BUFFER_SIZE = ReceivedCounters.BUFFER_SIZE;

    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void receivedAndBufferSizeArePublishedPerSource() {
        CorrelationEngine e = engines.start(Map.of("batch.size", 3));
        e.offer(info("billing", "1"));
        e.offer(info("billing", "2"));
        e.offer(info("billing", "3")); // cuts a batch
        e.offer(info("billing", "4"));
        e.offer(info("loader", "1"));

        MetricSamples metrics = MetricSamples.of(e);
        assertThat(metrics.byLabel(RECEIVED, "source")).containsOnly(entry("billing", 4.0), entry("loader", 1.0));
        assertThat(metrics.byLabel(BUFFER_SIZE, "source")).containsOnly(entry("billing", 1.0), entry("loader", 1.0));
        assertThat(metrics.all(RECEIVED)).allSatisfy(s -> assertThat(s.type()).isEqualTo(MetricSamples.Type.COUNTER));
        assertThat(metrics.all(BUFFER_SIZE)).allSatisfy(s -> assertThat(s.type()).isEqualTo(MetricSamples.Type.GAUGE));
    }

    @Test
    void theReceivedCountSurvivesTheRetirementOfAnIdleSourcesBuffer() {
        CorrelationEngine e = engines.start(Map.of("batch.size", 1));
        e.offer(info("a", "1"));
        e.offer(info("a", "2"));
        engines.clock.advanceMillis(TimeUnit.MINUTES.toMillis(CorrelationEngine.SOURCE_IDLE_MINUTES) + 1);
        e.tick();
        assertThat(metric(e, "signalbox_sources_active")).isZero();
        assertThat(metric(e, RECEIVED, "source", "a")).isEqualTo(2);
        assertThat(metric(e, BUFFER_SIZE, "source", "a")).isZero();

        e.offer(info("a", "3"));
        assertThat(metric(e, RECEIVED, "source", "a")).isEqualTo(3);
    }

    @Test
    void sourceNamesAreReportedAsTheyAreForTheExpositionWriterToEscape() {
        CorrelationEngine e = engines.start(Map.of());
        e.offer(info("we\"ird\\name\n", "1"));
        assertThat(metric(e, RECEIVED, "source", "we\"ird\\name\n")).isEqualTo(1);
    }

    @Test
    void sourcesBeyondTheSeriesLimitShareOneOtherSeries() {
        CorrelationEngine e = engines.start(Map.of("batch.size", 1));
        for (int i = 0; i <= ReceivedCounters.MAX_SOURCE_SERIES; i++) {
            e.offer(info("s" + i, "m"));
        }
        e.offer(info("s0", "m"));

        MetricSamples metrics = MetricSamples.of(e);
        assertThat(metrics.all(RECEIVED)).hasSize(ReceivedCounters.MAX_SOURCE_SERIES + 1);
        assertThat(metrics.value(RECEIVED, "source", ReceivedCounters.OTHER_SOURCES)).isEqualTo(1);
        assertThat(metrics.value(RECEIVED, "source", "s0")).isEqualTo(2);
        assertThat(metrics.find(BUFFER_SIZE, "source", ReceivedCounters.OTHER_SOURCES)).isEmpty();
    }
}
