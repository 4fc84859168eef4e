package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class BackoffTest {
    /** Jitter factor 1.0: the delays are exact. */
    private static final double MIDDLE = 0.5;

    @Test
    void delayDoublesFromInitialUpToMax() {
        assertThat(Backoff.delayMillis(0, 100, 1000)).isEqualTo(100);
        assertThat(Backoff.delayMillis(1, 100, 1000)).isEqualTo(200);
        assertThat(Backoff.delayMillis(3, 100, 1000)).isEqualTo(800);
        assertThat(Backoff.delayMillis(4, 100, 1000)).isEqualTo(1000);
        assertThat(Backoff.delayMillis(10_000, 100, 1000)).isEqualTo(1000);
        assertThat(Backoff.delayMillis(100, 1, Long.MAX_VALUE)).as("no overflow").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void eachFailureDoublesTheDelayAndASuccessStartsOver() {
        Backoff b = new Backoff(() -> MIDDLE);
        assertThat(b.failed(100, 1000)).isEqualTo(100);
        assertThat(b.failed(100, 1000)).isEqualTo(200);
        assertThat(b.failed(100, 1000)).isEqualTo(400);
        assertThat(b.failed(100, 1000)).isEqualTo(800);
        assertThat(b.failed(100, 1000)).isEqualTo(1000);
        assertThat(b.failed(100, 1000)).isEqualTo(1000);
        assertThat(b.attempts()).isEqualTo(6);

        b.succeeded();
        assertThat(b.attempts()).isZero();
        assertThat(b.failed(100, 1000)).isEqualTo(100);
    }

    @Test
    void jitterIsWithinTwentyPercentAndAtLeastOne() {
        assertThat(new Backoff(() -> 0.0).jitter(1000)).isEqualTo(800);
        assertThat(new Backoff(() -> 0.999_999).jitter(1000)).isEqualTo(1200);
        assertThat(new Backoff(() -> MIDDLE).jitter(1000)).isEqualTo(1000);
        assertThat(new Backoff(() -> 0.0).jitter(1)).isEqualTo(1);
        assertThat(new Backoff(() -> 0.0).jitter(0)).isEqualTo(1);
    }

    @Test
    void productionJitterSpreadsTheDelays() {
        Backoff b = Backoff.jittered();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            long d = b.jitter(1000);
            assertThat(d).isBetween(800L, 1200L);
            seen.add(d);
        }
        assertThat(seen).hasSizeGreaterThan(100);
    }
}
