package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.signalbox.api.DropReason;
import io.signalbox.api.MetricSamples;

class RejectCountersTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<String> logged = new ArrayList<>();
    private final RejectCounters counters = new RejectCounters(Duration.ofSeconds(10), clock::get,
            (reason, detail, suppressed) -> logged.add(reason.label() + "|" + detail + "|" + suppressed));

    @Test
    void metricsCountEveryReasonIncludingZeros() {
        counters.record(DropReason.MALFORMED, "bad");
        counters.record(DropReason.MALFORMED, "bad");
        counters.record(DropReason.TOO_LONG, "long");

        MetricSamples metrics = MetricSamples.of(counters);

        assertThat(metrics.names()).containsExactly("signalbox_messages_dropped_total");
        assertThat(metrics.all()).allSatisfy(s -> {
            assertThat(s.type()).isEqualTo(MetricSamples.Type.COUNTER);
            assertThat(s.labels()).containsOnlyKeys("reason");
        });
        assertThat(metrics.byLabel(RejectCounters.SERIES, "reason")).containsExactly(
                entry("malformed", 2.0), entry("too_long", 1.0), entry("missing_field", 0.0),
                entry("bad_type", 0.0), entry("unknown_type", 0.0), entry("unsupported_version", 0.0));
        assertThat(counters.total()).isEqualTo(3);
        assertThat(counters.get(DropReason.MALFORMED)).isEqualTo(2);
    }

    @Test
    void atMostOneLinePerReasonPerIntervalWithTheSuppressedCount() {
        counters.record(DropReason.MALFORMED, "first", "127.0.0.1:5000");
        counters.record(DropReason.MALFORMED, "second");
        counters.record(DropReason.MALFORMED, "third");
        counters.record(DropReason.BAD_TYPE, "other reason has its own budget");
        clock.addAndGet(TimeUnit.SECONDS.toNanos(9));
        counters.record(DropReason.MALFORMED, "fourth, still within 10 s");
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        counters.record(DropReason.MALFORMED, "fifth, 10 s later");
        counters.record(DropReason.MALFORMED, "sixth");

        assertThat(logged).containsExactly(
                "malformed|first from 127.0.0.1:5000|0",
                "bad_type|other reason has its own budget|0",
                "malformed|fifth, 10 s later|3");
        assertThat(counters.get(DropReason.MALFORMED)).isEqualTo(6);
    }

    @Test
    void concurrentRecordingLosesNoCount() throws Exception {
        RejectCounters shared = new RejectCounters(Duration.ofHours(1), System::nanoTime, (r, d, s) -> { });
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        shared.record(DropReason.TOO_LONG, "x");
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(shared.get(DropReason.TOO_LONG)).isEqualTo(40_000);
    }
}
