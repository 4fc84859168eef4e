package io.signalbox.protocol;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.LogLimiter;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/**
 * Counts failed authentications of one transport per reason and logs them rate-limited (one WARN
 * per 10 s, with the peer's address and the number held back). Never logs what the peer sent.
 * Reports {@value #SERIES}{@code {transport, reason}}.
 */
public final class AuthStats implements StatsSource {
    /** Series name; labels {@code transport} and {@code reason} ({@link Reason#label()}). */
    public static final String SERIES = "signalbox_auth_failures_total";

    private static final Logger LOG = LoggerFactory.getLogger(AuthStats.class);

    /** Why an authentication failed or a message of an authenticated connection was refused. */
    public enum Reason {
        /** The first line was not a {@code hello} (or not a valid line at all). */
        NO_HELLO,
        /** The {@code hello} carried no {@code data.token}. */
        NO_SECRET,
        /** The {@code data.token} is not one of the accepted secrets. */
        BAD_SECRET,
        /** The {@code data.auth} handshake version is not supported. */
        UNSUPPORTED_VERSION,
        /** The secret may not send as this {@code src} (the hello's, or a later message's: that message is dropped). */
        SOURCE_NOT_ALLOWED;

        private final String label = name().toLowerCase(Locale.ROOT);

        public String label() {
            return label;
        }
    }

    private final String transport;
    private final LongAdder[] counts = new LongAdder[Reason.values().length];
    private final LogLimiter log = new LogLimiter();

    public AuthStats(String transport) {
        this.transport = transport;
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Counts one failure and logs it unless one was logged recently. */
    public void record(Reason reason, Object peer, String detail) {
        counts[reason.ordinal()].increment();
        long suppressed = log.acquire();
        if (suppressed >= 0) {
            LOG.warn("Authentication failed on {} connection from {}: {} ({}) ({} more failures suppressed)",
                    transport, peer, reason.label(), detail, suppressed);
        }
    }

    public long get(Reason reason) {
        return counts[reason.ordinal()].sum();
    }

    public long total() {
        long t = 0;
        for (LongAdder c : counts) {
            t += c.sum();
        }
        return t;
    }

    @Override
    public void collect(MetricsSink sink) {
        for (Reason r : Reason.values()) {
            sink.counter(SERIES, counts[r.ordinal()].sum(), "transport", transport, "reason", r.label());
        }
    }
}
