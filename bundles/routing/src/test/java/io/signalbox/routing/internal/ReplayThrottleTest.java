package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class ReplayThrottleTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final ReplayThrottle throttle = new ReplayThrottle(clock::get);

    /** Replays batches of {@code size} for {@code seconds} of the test's clock, waiting as told; returns the messages. */
    private long replayFor(int seconds, int size, long rate) {
        long end = clock.get() + TimeUnit.SECONDS.toNanos(seconds);
        long messages = 0;
        while (clock.get() - end < 0) {
            long wait = throttle.acquire(size, rate);
            if (wait > 0) {
                clock.addAndGet(wait);
            } else {
                messages += size;
            }
        }
        return messages;
    }

    @Test
    void replayKeepsToTheRate() {
        assertThat(replayFor(10, 100, 1000)).isBetween(9_900L, 10_100L);
        assertThat(replayFor(10, 7, 1000)).isBetween(9_900L, 10_100L);
    }

    @Test
    void theFirstBatchWaitsForItsTokens() {
        assertThat(throttle.acquire(100, 1000)).isEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(throttle.acquire(100, 1000)).isZero();
    }

    @Test
    void afterAPauseAtMostOneSecondsWorthGoesAtOnce() {
        clock.addAndGet(TimeUnit.MINUTES.toNanos(1));
        int allowed = 0;
        while (throttle.acquire(100, 1000) == 0) {
            allowed++;
        }
        assertThat(allowed).isEqualTo(10);
    }

    @Test
    void aBatchLargerThanOneSecondsWorthGoesWithAFullBucketAndThenTheRateHolds() {
        assertThat(throttle.acquire(500, 100)).isEqualTo(TimeUnit.SECONDS.toNanos(1)); // waits for a full bucket
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        assertThat(throttle.acquire(500, 100)).isZero();
        // in debt by 400: the next one waits until the bucket is full again, 5 s
        assertThat(throttle.acquire(500, 100)).isEqualTo(TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void aLongPauseAtAHighRateDoesNotOverflow() {
        clock.addAndGet(TimeUnit.DAYS.toNanos(30));
        assertThat(throttle.acquire(1, 10_000_000)).isZero();
    }
}
