package io.signalbox.routing.internal;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The retry delays of one channel's writer: {@code retry.initial.ms} × 2^attempt, at most
 * {@code retry.max.ms}, each randomised by ±20 % ({@link #jitter}) so that channels failing
 * together do not retry in lockstep. The breaker's open time is jittered the same way.
 *
 * <p>The attempt count belongs to the writer thread; {@link #jitter} may be called from any thread.
 */
final class Backoff {
    private final DoubleSupplier random;
    private int attempt;

    /** @param random uniform values in {@code [0, 1)}; tests pass their own */
    Backoff(DoubleSupplier random) {
        this.random = random;
    }

    /** Jitter from {@link ThreadLocalRandom}. */
    static Backoff jittered() {
        return new Backoff(() -> ThreadLocalRandom.current().nextDouble());
    }

    /** Counts a failed attempt and returns the jittered delay before the next one, in ms. */
    long failed(long initialMillis, long maxMillis) {
        return jitter(delayMillis(attempt++, initialMillis, maxMillis));
    }

    /** Failed attempts since the last success. */
    int attempts() {
        return attempt;
    }

    /** A write succeeded: the next failure starts again at {@code initialMillis}. */
    void succeeded() {
        attempt = 0;
    }

    /** The delay before retry number {@code attempt + 1}, without jitter: initial × 2^attempt, at most max. */
    static long delayMillis(int attempt, long initialMillis, long maxMillis) {
        long d = initialMillis;
        for (int i = 0; i < attempt && d < maxMillis; i++) {
            d = d > maxMillis / 2 ? maxMillis : d * 2;
        }
        return Math.min(d, maxMillis);
    }

    /** {@code millis} ± 20 %, at least 1. */
    long jitter(long millis) {
        return Math.max(1, Math.round(millis * (0.8 + 0.4 * random.getAsDouble())));
    }
}
