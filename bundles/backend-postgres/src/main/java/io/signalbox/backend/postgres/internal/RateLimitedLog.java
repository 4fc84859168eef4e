package io.signalbox.backend.postgres.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * Logs at most one line per reason per 10 s and counts the ones it suppressed, so a problem
 * that repeats per batch (a full disk) cannot flood the log.
 */
final class RateLimitedLog {
    private static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();

    RateLimitedLog(Logger log) {
        this.log = log;
    }

    /** WARN, rate-limited by {@code reason}; the last argument may be a Throwable. */
    void warn(String reason, String message, Object... args) {
        long suppressed = slots.computeIfAbsent(reason, r -> new Slot()).admit(System.nanoTime());
        if (suppressed >= 0) {
            log.warn("[{} suppressed since the last report] " + message, prepend(suppressed, args));
        }
    }

    /** ERROR, rate-limited by {@code reason}; the last argument may be a Throwable. */
    void error(String reason, String message, Object... args) {
        long suppressed = slots.computeIfAbsent(reason, r -> new Slot()).admit(System.nanoTime());
        if (suppressed >= 0) {
            log.error("[{} suppressed since the last report] " + message, prepend(suppressed, args));
        }
    }

    private static Object[] prepend(long first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static final class Slot {
        private long lastLogged;
        private boolean logged;
        private long suppressed;

        /** @return how many were suppressed since the last line if this one may be logged, else -1 */
        synchronized long admit(long now) {
            if (!logged || now - lastLogged >= PERIOD_NANOS) {
                logged = true;
                lastLogged = now;
                long s = suppressed;
                suppressed = 0;
                return s;
            }
            suppressed++;
            return -1;
        }
    }
}
