package io.signalbox.transport.tcp.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Lets at most one log line through per interval and counts the ones held back, so that a
 * misbehaving client cannot flood the log. Lock-free; thread-safe.
 */
final class LogLimiter {
    /** Default interval: one line per 10 s. */
    static final long DEFAULT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final long intervalNanos;
    private final AtomicLong nextAt = new AtomicLong(System.nanoTime());
    private final LongAdder suppressed = new LongAdder();

    LogLimiter(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    LogLimiter() {
        this(DEFAULT_INTERVAL_NANOS);
    }

    /**
     * @return {@code -1} if this line must not be logged (it is counted as suppressed), otherwise
     *         the number of lines suppressed since the last one logged
     */
    long acquire() {
        long due = nextAt.get();
        long now = System.nanoTime();
        if (now - due >= 0 && nextAt.compareAndSet(due, now + intervalNanos)) {
            return suppressed.sumThenReset();
        }
        suppressed.increment();
        return -1;
    }
}
