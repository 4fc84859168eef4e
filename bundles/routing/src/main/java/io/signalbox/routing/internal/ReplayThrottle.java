package io.signalbox.routing.internal;

import java.util.function.LongSupplier;

/**
 * Limits the replay of a spool after an outage to {@code replay.rate} messages per second, so a
 * recovering backend is not flooded: a token bucket with one token per message, refilled at the
 * rate and holding at most one second's worth. A batch larger than that goes when the bucket is
 * full and leaves it in debt.
 *
 * <p>Not thread-safe: the writer thread's own.
 */
final class ReplayThrottle {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final LongSupplier nanoClock;
    private long tokens;
    private long refilledAt;

    /** @param nanoClock {@link System#nanoTime()}, or a test's clock */
    ReplayThrottle(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.refilledAt = nanoClock.getAsLong();
    }

    /**
     * Takes a token per message if there are enough (or the bucket is full).
     *
     * @param messages      the batch's size
     * @param ratePerSecond {@code replay.rate}, above 0
     * @return 0 if the batch may be replayed now, else how long to wait before asking again, in ns
     */
    long acquire(int messages, long ratePerSecond) {
        long now = nanoClock.getAsLong();
        long elapsed = now - refilledAt;
        refilledAt = now;
        tokens = elapsed > Long.MAX_VALUE / ratePerSecond ? ratePerSecond // full long ago (and no overflow)
                : Math.min(ratePerSecond, tokens + elapsed * ratePerSecond / NANOS_PER_SECOND);
        if (tokens < messages && tokens < ratePerSecond) {
            return (Math.min(messages, ratePerSecond) - tokens) * NANOS_PER_SECOND / ratePerSecond;
        }
        tokens -= messages;
        return 0;
    }
}
