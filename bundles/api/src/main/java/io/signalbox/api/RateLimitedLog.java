package io.signalbox.api;

import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

/**
 * A logger wrapper that writes at most one line per reason per {@link LogLimiter} interval
 * (10 s) and prefixes it with the number of lines it suppressed since the last one, e.g.
 * {@code [12 suppressed since the last report] Router failed on a batch …}.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final ConcurrentHashMap<String, LogLimiter> limiters = new ConcurrentHashMap<>();

    public RateLimitedLog(Logger log) {
        this.log = log;
    }

    /** WARN, rate-limited by {@code reason}; parameterised, the last argument may be a Throwable. */
    public void warn(String reason, String message, Object... args) {
        long suppressed = limiter(reason).acquire();
        if (suppressed >= 0) {
            log.warn("[{} suppressed since the last report] " + message, prepend(suppressed, args));
        }
    }

    /** ERROR, rate-limited by {@code reason}; parameterised, the last argument may be a Throwable. */
    public void error(String reason, String message, Object... args) {
        long suppressed = limiter(reason).acquire();
        if (suppressed >= 0) {
            log.error("[{} suppressed since the last report] " + message, prepend(suppressed, args));
        }
    }

    private LogLimiter limiter(String reason) {
        return limiters.computeIfAbsent(reason, r -> new LogLimiter());
    }

    private static Object[] prepend(long first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
