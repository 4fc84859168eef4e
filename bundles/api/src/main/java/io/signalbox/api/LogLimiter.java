package io.signalbox.api;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Lets at most one log line through per interval for one reason and counts what it held back
 * in between, so a problem that repeats per message or per batch cannot flood the log. The
 * caller logs when {@link #permit} says so, with the suppressed count in the line. Lock-free and
 * cheap enough to call on every occurrence; shared by every Signalbox bundle so that all
 * rate-limited lines behave alike.
 */
public final class LogLimiter {
    /** The default interval: one line per 10 s. */
    public static final long DEFAULT_INTERVAL_SECONDS = 10;

    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(System.nanoTime());
    private final LongAdder suppressed = new LongAdder();

    /** One line per {@value #DEFAULT_INTERVAL_SECONDS} s. */
    public LogLimiter() {
        this(DEFAULT_INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    public LogLimiter(long interval, TimeUnit unit) {
        this.intervalNanos = unit.toNanos(interval);
    }

    /**
     * Records an occurrence of {@code weight} units (lines, messages, batches).
     *
     * @return {@code -1} if it must not be logged (it is counted as suppressed), else the number
     *         of units suppressed since the last line that was allowed
     */
    public long permit(long weight) {
        long now = System.nanoTime();
        long due = next.get();
        if (now - due >= 0 && next.compareAndSet(due, now + intervalNanos)) {
            return suppressed.sumThenReset();
        }
        suppressed.add(weight);
        return -1;
    }

    /** {@code permit(1)}. */
    public long acquire() {
        return permit(1);
    }
}
