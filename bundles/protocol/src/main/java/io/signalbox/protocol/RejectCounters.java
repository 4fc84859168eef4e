package io.signalbox.protocol;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.DropReason;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/**
 * Counts rejected lines per {@link DropReason} and logs them rate-limited, the same way in every
 * transport.
 *
 * <p>Counting is a {@link LongAdder} increment (no lock). At most one WARN line is logged per
 * reason per interval (default 10 s); the lines not logged in between are counted and reported
 * as {@code (N more suppressed)} on the next line logged for that reason. Thread-safe.
 *
 * <p>As a {@link StatsSource} it reports {@value #SERIES} with label {@code reason}, one series
 * per {@link DropReason}, zeros included (a transport's own {@code collect} passes its sink on).
 */
public final class RejectCounters implements StatsSource {
    /** Series name of the drop counter; its label is {@code reason} ({@link DropReason#label()}). */
    public static final String SERIES = "signalbox_messages_dropped_total";
    /** Default minimum time between two log lines for the same reason. */
    public static final Duration DEFAULT_LOG_INTERVAL = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(RejectCounters.class);
    private static final DropReason[] REASONS = DropReason.values();

    /** Where a rate-limited line goes; replaced in unit tests. */
    interface Sink {
        void log(DropReason reason, String detail, long suppressed);
    }

    private static final Sink WARN = (reason, detail, suppressed) -> {
        if (suppressed == 0) {
            LOG.warn("Dropped a line ({}): {}", reason.label(), detail);
        } else {
            LOG.warn("Dropped a line ({}): {} ({} more suppressed)", reason.label(), detail, suppressed);
        }
    };

    private final LongAdder[] counts = new LongAdder[REASONS.length];
    private final AtomicLong[] nextLogAt = new AtomicLong[REASONS.length];
    private final LongAdder[] suppressed = new LongAdder[REASONS.length];
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Sink sink;

    /** Counters that log at most one line per reason per 10 s. */
    public RejectCounters() {
        this(DEFAULT_LOG_INTERVAL);
    }

    /** Counters that log at most one line per reason per {@code logInterval}. */
    public RejectCounters(Duration logInterval) {
        this(logInterval, System::nanoTime, WARN);
    }

    RejectCounters(Duration logInterval, LongSupplier nanoClock, Sink sink) {
        this.intervalNanos = Objects.requireNonNull(logInterval, "logInterval").toNanos();
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.sink = Objects.requireNonNull(sink, "sink");
        long now = nanoClock.getAsLong();
        for (DropReason r : REASONS) {
            int i = r.ordinal();
            counts[i] = new LongAdder();
            suppressed[i] = new LongAdder();
            nextLogAt[i] = new AtomicLong(now);
        }
    }

    /** Counts one rejected line and logs it unless a line for the same reason was logged recently. */
    public void record(DropReason reason, String detail) {
        if (count(reason)) {
            log(reason, detail);
        }
    }

    /**
     * Like {@link #record(DropReason, String)} with {@code detail + " from " + origin}, but the
     * text is only built when the line is actually logged.
     */
    public void record(DropReason reason, String detail, Object origin) {
        if (count(reason)) {
            log(reason, detail + " from " + origin);
        }
    }

    /** Counts; returns whether this one should be logged (and if not, counts it as suppressed). */
    private boolean count(DropReason reason) {
        int i = reason.ordinal();
        counts[i].increment();
        AtomicLong next = nextLogAt[i];
        long due = next.get();
        long now = nanoClock.getAsLong();
        if (now - due >= 0 && next.compareAndSet(due, now + intervalNanos)) {
            return true;
        }
        suppressed[i].increment();
        return false;
    }

    private void log(DropReason reason, String detail) {
        sink.log(reason, detail, suppressed[reason.ordinal()].sumThenReset());
    }

    /** Lines dropped for {@code reason} so far. */
    public long get(DropReason reason) {
        return counts[reason.ordinal()].sum();
    }

    /** Lines dropped for any reason so far. */
    public long total() {
        long sum = 0;
        for (LongAdder c : counts) {
            sum += c.sum();
        }
        return sum;
    }

    /** Reports {@value #SERIES} for every reason, zeros included. */
    @Override
    public void collect(MetricsSink sink) {
        for (DropReason r : REASONS) {
            sink.counter(SERIES, counts[r.ordinal()].sum(), "reason", r.label());
        }
    }
}
