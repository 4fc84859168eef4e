package io.signalbox.routing.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Allows one log line per interval for one reason and counts what it suppressed in between.
 * Lock-free; cheap enough to call on every occurrence.
 */
final class LogLimiter {
    static final long DEFAULT_INTERVAL_SECONDS = 10;

    private final long intervalNanos;
    private final AtomicLong next;
    private final AtomicLong suppressed = new AtomicLong();

    LogLimiter() {
        this(DEFAULT_INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    LogLimiter(long interval, TimeUnit unit) {
        this.intervalNanos = unit.toNanos(interval);
        this.next = new AtomicLong(System.nanoTime());
    }

    /**
     * Records an occurrence of {@code weight} units (lines, messages).
     *
     * @return {@code -1} if it must not be logged, else the number of units suppressed since
     *         the last line that was allowed
     */
    long permit(long weight) {
        long now = System.nanoTime();
        long n = next.get();
        if (now - n >= 0 && next.compareAndSet(n, now + intervalNanos)) {
            return suppressed.getAndSet(0);
        }
        suppressed.addAndGet(weight);
        return -1;
    }
}
