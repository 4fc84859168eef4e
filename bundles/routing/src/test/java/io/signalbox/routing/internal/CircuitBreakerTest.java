package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.signalbox.routing.internal.CircuitBreaker.State;
import io.signalbox.routing.internal.CircuitBreaker.Trip;

class CircuitBreakerTest {
    private static final long OPEN_MS = 1000;

    private final AtomicLong clock = new AtomicLong(42);
    /** No jitter: the breaker opens for exactly {@code breaker.open.ms}. */
    private final CircuitBreaker breaker = new CircuitBreaker(clock::get, ms -> ms);

    private static RoutingSettings settings(int failures, double errorRate, int window) {
        return TestSupport.settings("breaker.failures", failures, "breaker.error.rate", errorRate, "breaker.window",
                window, "breaker.open.ms", OPEN_MS);
    }

    private void advanceMillis(long ms) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    /** Fails or succeeds one write per character: {@code F} failed, {@code S} succeeded; returns the last trip. */
    private Trip writes(String outcomes, RoutingSettings s) {
        Trip last = Trip.NONE;
        for (char c : outcomes.toCharArray()) {
            if (c == 'F') {
                last = breaker.failed(s);
            } else {
                breaker.succeeded();
                last = Trip.NONE;
            }
        }
        return last;
    }

    @Test
    void opensAfterConsecutiveFailures() {
        RoutingSettings s = settings(3, 0, 20);
        assertThat(writes("FF", s)).isEqualTo(Trip.NONE);
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.consecutiveFailures()).isEqualTo(2);

        assertThat(breaker.failed(s)).isEqualTo(Trip.OPENED);
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        assertThat(breaker.reason()).isEqualTo("3 consecutive failed writes");
        assertThat(breaker.openedCount()).isEqualTo(1);
        assertThat(breaker.isOpen()).isTrue();
        assertThat(breaker.nanosUntilProbe()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(OPEN_MS));
    }

    @Test
    void aSuccessEndsTheRunOfFailures() {
        RoutingSettings s = settings(3, 0, 20);
        assertThat(writes("FFSFFSFF", s)).isEqualTo(Trip.NONE);
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.openedCount()).isZero();
    }

    @Test
    void openThenHalfOpenProbeThenClosed() {
        RoutingSettings s = settings(1, 0, 20);
        assertThat(breaker.failed(s)).isEqualTo(Trip.OPENED);

        advanceMillis(OPEN_MS - 1);
        assertThat(breaker.isOpen()).as("before the probe time").isTrue();
        advanceMillis(1);
        assertThat(breaker.isOpen()).as("probe due").isFalse();
        assertThat(breaker.state()).isEqualTo(State.OPEN);

        assertThat(breaker.beginWrite()).as("the probe").isTrue();
        assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
        assertThat(breaker.succeeded()).as("the probe closes it").isTrue();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.consecutiveFailures()).isZero();

        assertThat(breaker.beginWrite()).as("closed: no probe").isFalse();
        assertThat(breaker.succeeded()).as("already closed").isFalse();
        assertThat(breaker.openedCount()).isEqualTo(1);
    }

    @Test
    void aFailedProbeOpensItAgainForAnotherPeriod() {
        RoutingSettings s = settings(1, 0, 20);
        breaker.failed(s);
        advanceMillis(OPEN_MS);
        assertThat(breaker.beginWrite()).isTrue();

        assertThat(breaker.failed(s)).isEqualTo(Trip.PROBE_FAILED);
        assertThat(breaker.state()).isEqualTo(State.OPEN);
        assertThat(breaker.isOpen()).isTrue();
        assertThat(breaker.nanosUntilProbe()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(OPEN_MS));
        assertThat(breaker.openedCount()).as("reopened, not opened").isEqualTo(1);

        advanceMillis(OPEN_MS);
        assertThat(breaker.beginWrite()).isTrue();
        assertThat(breaker.succeeded()).isTrue();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void theErrorRateOverTheWindowOpensIt() {
        RoutingSettings s = settings(1000, 0.5, 4);
        assertThat(writes("FSF", s)).as("fewer writes than the window").isEqualTo(Trip.NONE);
        assertThat(writes("S", s)).isEqualTo(Trip.NONE);
        assertThat(writes("F", s)).as("F S F S F: 2 of the last 4 failed").isEqualTo(Trip.OPENED);
        assertThat(breaker.reason()).isEqualTo("2 of the last 4 writes failed");
    }

    @Test
    void onlyTheLastWindowOfWritesCounts() {
        RoutingSettings s = settings(1000, 0.5, 4);
        assertThat(writes("FFSSSSF", s)).as("F S S S: 1 of the last 4").isEqualTo(Trip.NONE);
        assertThat(writes("SF", s)).as("S F S F: 2 of the last 4").isEqualTo(Trip.OPENED);
    }

    @Test
    void aRateOfZeroCountsOnlyFailuresInARow() {
        RoutingSettings s = settings(1000, 0, 4);
        assertThat(writes("FSFSFSFSFSFSFSFSF", s)).isEqualTo(Trip.NONE);
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void aNewBackendClosesItAndForgetsTheHistory() {
        RoutingSettings s = settings(1000, 0.5, 4);
        writes("SFSF", s);
        assertThat(breaker.state()).isEqualTo(State.OPEN);

        breaker.reset();
        assertThat(breaker.state()).isEqualTo(State.CLOSED);
        assertThat(breaker.isOpen()).isFalse();
        assertThat(writes("FSF", s)).as("the window starts again").isEqualTo(Trip.NONE);
    }

    @Test
    void theOpenTimeIsJittered() {
        CircuitBreaker jittered = new CircuitBreaker(clock::get, ms -> ms * 6 / 5);
        jittered.failed(settings(1, 0, 20));
        assertThat(jittered.nanosUntilProbe()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(OPEN_MS * 6 / 5));
    }

    @Test
    void theStateGaugeKeepsItsValues() {
        assertThat(State.CLOSED.ordinal()).isZero();
        assertThat(State.HALF_OPEN.ordinal()).isEqualTo(1);
        assertThat(State.OPEN.ordinal()).isEqualTo(2);
    }
}
