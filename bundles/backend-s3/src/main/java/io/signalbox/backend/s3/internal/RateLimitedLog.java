package io.signalbox.backend.s3.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/** At most one log line per reason per interval, with the number of suppressed ones. */
final class RateLimitedLog {
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();

    private static final class State {
        volatile long last = System.nanoTime() - INTERVAL_NANOS - 1;
        final AtomicLong suppressed = new AtomicLong();
    }

    RateLimitedLog(Logger log) {
        this.log = log;
    }

    /** Logs at WARN unless this reason was logged in the last 10 s; {@code t} is logged with its message only. */
    void warn(String reason, String message, Throwable t) {
        State s = states.computeIfAbsent(reason, k -> new State());
        long now = System.nanoTime();
        synchronized (s) {
            if (now - s.last < INTERVAL_NANOS) {
                s.suppressed.incrementAndGet();
                return;
            }
            s.last = now;
        }
        long suppressed = s.suppressed.getAndSet(0);
        log.warn("{}: {}{}", message, t, suppressed == 0 ? "" : " (" + suppressed + " similar suppressed in the last 10 s)");
        log.debug("{}: details", message, t);
    }
}
