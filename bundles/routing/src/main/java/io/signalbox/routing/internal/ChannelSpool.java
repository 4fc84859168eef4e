package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.LogLimiter;

/**
 * The disk {@link Spool} of one channel as its threads use it: opened once, and given up (kept on
 * disk until the next start) when it cannot be read. Every I/O failure is logged here, rate-limited
 * where it can repeat per batch; none is thrown to the channel.
 *
 * <p>Thread-safe: the spool is a volatile reference, the spool synchronises its own operations.
 */
final class ChannelSpool {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelSpool.class);

    private final String name;
    private final Path dir;
    private final Supplier<RoutingSettings> settings;
    private final LogLimiter failureLog = new LogLimiter();
    /** Set once by {@link #open}; {@code null} if there is none or it broke. */
    private volatile Spool spool;
    private boolean opened;

    /** @param dir the directory of this backend's spool, or {@code null} for none */
    ChannelSpool(String name, Path dir, Supplier<RoutingSettings> settings) {
        this.name = name;
        this.dir = dir;
        this.settings = settings;
    }

    /** Opens (and recovers) the spool, once; a spool that cannot be opened is logged and left out. */
    void open() {
        if (dir == null || opened) {
            return;
        }
        opened = true;
        try {
            spool = Spool.open(name, dir, settings);
        } catch (IOException | RuntimeException e) {
            LOG.error("backend {}: the spool {} cannot be opened; batches for this backend wait in memory while it "
                    + "is absent or failing: {}", name, dir, e.toString(), e);
        }
    }

    /** Whether there is a spool to append to. */
    boolean available() {
        return spool != null;
    }

    /** Whether records wait in the spool. */
    boolean hasRecords() {
        Spool sp = spool;
        return sp != null && !sp.isEmpty();
    }

    /**
     * Appends the batches in order until one fails (logged; tried again by the caller later).
     *
     * @param queued messages waiting in memory, for the log
     * @return how many are in the spool
     */
    int append(List<ChannelQueue.Entry> entries, long queued) {
        Spool sp = spool;
        int done = 0;
        try {
            while (sp != null && done < entries.size()) {
                sp.append(entries.get(done).batch);
                done++;
            }
        } catch (IOException e) {
            writeFailed("a write", "; " + queued + " messages wait in memory and slow clients down once "
                    + "correlation's capacity is used", e);
        }
        return done;
    }

    /** Forces appended records to the device if {@code spool.fsync=interval} says it is time. */
    /** Nanoseconds until {@link #forceIfDue} has something to do, or {@code Long.MAX_VALUE}. */
    long nanosUntilDue() {
        Spool sp = spool;
        return sp == null ? Long.MAX_VALUE : sp.nanosUntilDue();
    }

    void forceIfDue() {
        Spool sp = spool;
        try {
            if (sp != null) {
                sp.forceIfDue();
            }
        } catch (IOException e) {
            writeFailed("fsync", "", e);
        }
    }

    private void writeFailed(String what, String consequence, IOException e) {
        long suppressed = failureLog.permit(1);
        if (suppressed >= 0) {
            LOG.error("backend {}: {} of its spool {} failed ({} more failures not logged in the last {} s){}: {}", name,
                    what, dir, suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS, consequence, e.toString(), e);
        }
    }

    /** The oldest record to replay, or {@code null}; a spool that cannot be read is closed and given up. */
    Spool.Record peek() {
        Spool sp = spool;
        try {
            return sp == null ? null : sp.peek();
        } catch (IOException e) {
            LOG.error("backend {}: the spool {} cannot be read; its contents are kept on disk and not replayed "
                    + "until the next start, and batches for this backend wait in memory: {}", name, dir,
                    e.toString(), e);
            close();
            spool = null;
            return null;
        }
    }

    /** The record from {@link #peek} was delivered. */
    void advance(Spool.Record record) {
        Spool sp = spool;
        try {
            if (sp != null) {
                sp.advance(record);
            }
        } catch (IOException e) {
            LOG.error("backend {}: a replayed spool record could not be marked delivered in {}; it may be replayed "
                    + "again after a restart: {}", name, dir, e.toString(), e);
        }
    }

    void close() {
        Spool sp = spool;
        try {
            if (sp != null) {
                sp.close();
            }
        } catch (IOException e) {
            LOG.warn("backend {}: closing the spool {} failed: {}", name, dir, e.toString(), e);
        }
    }

    // --- gauges (0 without a spool) -------------------------------------------------------

    long bytes() {
        return gauge(Spool::bytes);
    }

    long messages() {
        return gauge(Spool::messages);
    }

    long droppedMessages() {
        return gauge(Spool::droppedMessages);
    }

    long corruptRecords() {
        return gauge(Spool::corruptRecords);
    }

    long ignoredFiles() {
        return gauge(Spool::ignoredFiles);
    }

    private long gauge(ToLongFunction<Spool> value) {
        Spool sp = spool;
        return sp == null ? 0 : value.applyAsLong(sp);
    }
}
