package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.LogLimiter;

/**
 * The disk spool of one backend: a segmented append-only log of batches under
 * {@code <spool.dir>/<backend>/} ({@link SpoolFiles}), records in the {@link SpoolCodec} format,
 * the position of the first undelivered record in a {@link SpoolCursor} file. Fully delivered
 * segments are deleted.
 *
 * <p>{@link #open} recovers what an earlier run left ({@link SpoolRecovery}); the spool never
 * throws on its own files' contents, it truncates and counts ({@link #corruptRecords()}).
 *
 * <p>The size is bounded: an append that would exceed {@code spool.max.mb} first deletes the
 * oldest segments (counted in {@link #droppedMessages()}, logged at ERROR).
 *
 * <p>Thread-safe: the channel's spooler appends while its writer reads and advances; every
 * operation holds the spool's monitor (never the other way round), and the gauges are volatile.
 * Records are written to the operating system at once (they survive a crash of the process) and
 * forced to the device according to {@code spool.fsync}; the cursor is never forced (after a
 * power loss some delivered records may be replayed again: at-least-once).
 */
final class Spool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);

    /** When appended records are forced to the device ({@code spool.fsync}). */
    enum Fsync {
        /** After every append: a record survives power loss once append returns. */
        ALWAYS,
        /** At most every {@code spool.fsync.interval.ms} (by the append or {@link #forceIfDue}). */
        INTERVAL,
        /** Never: records survive a crash of the process, not of the machine. */
        NEVER
    }

    /** A record read for replay; {@link #advance} consumes it. */
    record Record(Batch batch, long seq, long nextOffset) {
    }

    private final String name;
    private final Path dir;
    /** Bounds and fsync policy in force, read at every append so a configuration change applies at once. */
    private final Supplier<RoutingSettings> settings;
    private final ArrayDeque<SpoolSegment> segments;
    private final SpoolCodec codec = new SpoolCodec();
    private final SpoolCursor cursor;
    private final LogLimiter fullLog = new LogLimiter();
    private FileChannel tail;
    private FileChannel reader;
    private long readerSeq = -1;
    /** Offset of the first undelivered record in the head segment. */
    private long readOffset;
    /** Appended since the last force. */
    private boolean dirty;
    private long lastForceNanos = System.nanoTime();
    /**
     * The highest segment number in use: kept segments and the cursor's (whose segment may have been
     * removed at open). New segments are numbered above it, so a stale cursor never points past them.
     */
    private long highestSeq;

    private volatile long bytes;
    private volatile long messages;
    private volatile long dropped;
    private volatile long corrupt;
    /** Files in the spool directory that are not the spool's own, found at open. */
    private final long ignored;
    /** Records not yet delivered, for {@link #isEmpty()}. */
    private volatile int pendingRecords;

    private Spool(String name, Path dir, Supplier<RoutingSettings> settings, SpoolCursor cursor,
            SpoolRecovery.Recovered found) {
        this.name = name;
        this.dir = dir;
        this.settings = settings;
        this.cursor = cursor;
        this.segments = found.segments();
        this.readOffset = found.readOffset();
        this.highestSeq = found.highestSeq();
        this.bytes = found.bytes();
        this.messages = found.messages();
        this.corrupt = found.corrupt();
        this.ignored = found.ignored();
        recount();
    }

    /**
     * Opens (and recovers) the spool in {@code dir}; creates nothing until the first append.
     *
     * @param settings the settings in force: {@code spool.max.mb}, {@code spool.segment.mb} and
     *                 {@code spool.fsync*} are read at every append
     * @throws IOException if the directory cannot be listed or a segment cannot be truncated
     */
    static Spool open(String name, Path dir, Supplier<RoutingSettings> settings) throws IOException {
        SpoolCursor cursor = new SpoolCursor(name, dir);
        return new Spool(name, dir, settings, cursor, SpoolRecovery.recover(name, dir, cursor));
    }

    // --- gauges ----------------------------------------------------------------------------

    long bytes() {
        return bytes;
    }

    long messages() {
        return messages;
    }

    long droppedMessages() {
        return dropped;
    }

    long corruptRecords() {
        return corrupt;
    }

    /** Files found in the spool directory at open that are not segments or the cursor (left alone). */
    long ignoredFiles() {
        return ignored;
    }

    /** Whether no record waits for delivery. */
    boolean isEmpty() {
        return pendingRecords == 0; // a volatile read: the channel asks under its own lock, never blocking on disk I/O
    }

    /** Recomputes {@link #pendingRecords} after the records waiting for delivery changed. */
    private void recount() {
        int n = 0;
        for (SpoolSegment seg : segments) {
            n += seg.recordMessages.size();
        }
        pendingRecords = n;
    }

    // --- append ----------------------------------------------------------------------------

    /** Appends one batch; when this returns, the record is in the operating system's hands. */
    synchronized void append(Batch batch) throws IOException {
        RoutingSettings s = settings.get();
        ByteBuffer record = codec.encode(batch);
        int length = record.remaining();
        makeRoom(length, s.spoolMaxBytes());
        SpoolSegment last = segments.peekLast();
        if (last == null || tail == null || (last.size > 0 && last.size + length > s.spoolSegmentBytes())) {
            last = roll();
        }
        long position = last.size;
        try {
            while (record.hasRemaining()) {
                tail.write(record, position + record.position());
            }
        } catch (IOException e) {
            try {
                tail.truncate(position); // no half record left behind for the reader
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        last.size += length;
        last.recordMessages.addLast(batch.size());
        pendingRecords++;
        bytes += length;
        messages += batch.size();
        dirty = true;
        if (s.spoolFsync() == Fsync.ALWAYS || (s.spoolFsync() == Fsync.INTERVAL && intervalPassed(s))) {
            force();
        }
    }

    /** Forces appended records to the device if {@code spool.fsync=interval} and the interval has passed. */
    synchronized void forceIfDue() throws IOException {
        cursor.flushIfDue();
        RoutingSettings s = settings.get();
        if (dirty && s.spoolFsync() == Fsync.INTERVAL && intervalPassed(s)) {
            force();
        }
    }

    /** Nanoseconds until {@link #forceIfDue} has something to do, or {@code Long.MAX_VALUE} if nothing waits for it. */
    synchronized long nanosUntilDue() {
        long due = cursor.nanosUntilDue();
        RoutingSettings s = settings.get();
        if (dirty && s.spoolFsync() == Fsync.INTERVAL) {
            due = Math.min(due, Math.max(1, lastForceNanos + s.spoolFsyncIntervalMillis() * 1_000_000L - System.nanoTime()));
        }
        return due;
    }

    private boolean intervalPassed(RoutingSettings s) {
        return System.nanoTime() - lastForceNanos >= s.spoolFsyncIntervalMillis() * 1_000_000L;
    }

    private void force() throws IOException {
        if (tail != null) {
            tail.force(false);
        }
        dirty = false;
        lastForceNanos = System.nanoTime();
    }

    /** Forces what the policy promises before a segment is closed. */
    private void forceBeforeClosing() throws IOException {
        if (dirty && settings.get().spoolFsync() != Fsync.NEVER) {
            force();
        }
    }

    private SpoolSegment roll() throws IOException {
        forceBeforeClosing();
        closeTail();
        PrivateFiles.createDirectories(dir);
        SpoolSegment prev = segments.peekLast();
        long seq = Math.max(prev == null ? 0 : prev.seq, highestSeq) + 1;
        highestSeq = seq;
        SpoolSegment s = new SpoolSegment(seq, dir.resolve(SpoolFiles.segmentName(seq)));
        tail = PrivateFiles.open(s.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        segments.addLast(s);
        return s;
    }

    /** Drops the oldest segments until {@code length} more bytes fit under {@code max}. */
    private void makeRoom(int length, long max) throws IOException {
        while (bytes + length > max && !segments.isEmpty()) {
            SpoolSegment oldest = segments.peekFirst();
            if (oldest == segments.peekLast()) {
                if (oldest.recordMessages.isEmpty()) {
                    break; // nothing left to drop
                }
                roll(); // never drop the segment being appended to while it is the only one
            }
            long lostMessages = oldest.unconsumedMessages();
            long lostBytes = oldest.size - (oldest == segments.peekFirst() ? readOffset : 0);
            deleteHead();
            dropped += lostMessages;
            long suppressed = fullLog.permit(1);
            if (suppressed >= 0) {
                LOG.error("spool of backend {} is full ({} bytes, spool.max.mb): dropped its oldest segment with {} "
                        + "messages ({} bytes); {} messages dropped from this spool so far ({} more dropped segments "
                        + "not logged in the last {} s)", name, max, lostMessages, lostBytes, dropped, suppressed,
                        LogLimiter.DEFAULT_INTERVAL_SECONDS);
            }
        }
    }

    // --- replay ----------------------------------------------------------------------------

    /**
     * The oldest record not yet delivered, or {@code null} if the spool is empty. A record that
     * cannot be read any more (the file changed under us) is skipped, counted and logged.
     */
    synchronized Record peek() throws IOException {
        while (!segments.isEmpty()) {
            SpoolSegment head = segments.peekFirst();
            if (head.recordMessages.isEmpty()) {
                if (head == segments.peekLast()) {
                    return null; // the tail, all delivered: kept open for appends
                }
                deleteHead();
                continue;
            }
            SpoolCodec.Read r = SpoolCodec.read(reader(head), readOffset, head.size);
            if (r.problem() == null) {
                return new Record(r.batch(), head.seq, r.end(readOffset));
            }
            corrupt++;
            long lost = head.unconsumedMessages();
            LOG.error("spool of backend {}: segment {} cannot be read at offset {} any more ({}); its remaining {} "
                    + "messages are skipped", name, head.path, readOffset, r.problem(), lost);
            dropped += lost;
            messages -= lost;
            bytes -= head.size - readOffset;
            head.recordMessages.clear();
            recount();
            readOffset = head.size;
        }
        return null;
    }

    /** Consumes the record returned by {@link #peek} once its batch was delivered. */
    synchronized void advance(Record record) throws IOException {
        SpoolSegment head = segments.peekFirst();
        if (head == null || head.seq != record.seq()) {
            return; // its segment was dropped meanwhile
        }
        Integer n = head.recordMessages.pollFirst();
        recount();
        messages -= n == null ? 0 : n;
        bytes -= record.nextOffset() - readOffset;
        readOffset = record.nextOffset();
        if (head.recordMessages.isEmpty() && head != segments.peekLast()) {
            deleteHead();
        } else {
            cursor.write(head.seq, readOffset);
        }
    }

    private FileChannel reader(SpoolSegment head) throws IOException {
        if (reader == null || readerSeq != head.seq) {
            closeReader();
            reader = FileChannel.open(head.path, StandardOpenOption.READ);
            readerSeq = head.seq;
        }
        return reader;
    }

    private void deleteHead() throws IOException {
        SpoolSegment head = segments.pollFirst();
        recount();
        if (head.seq == readerSeq) {
            closeReader();
        }
        if (segments.isEmpty()) {
            closeTail();
        }
        bytes -= head.size - readOffset;
        messages -= head.unconsumedMessages();
        readOffset = 0;
        Files.deleteIfExists(head.path);
        SpoolSegment next = segments.peekFirst();
        if (next != null) {
            cursor.write(next.seq, 0);
        } else {
            cursor.delete();
            bytes = 0;
            messages = 0;
        }
    }

    // --- files -----------------------------------------------------------------------------

    private void closeTail() throws IOException {
        if (tail != null) {
            FileChannel t = tail;
            tail = null;
            t.close();
        }
    }

    private void closeReader() throws IOException {
        if (reader != null) {
            FileChannel r = reader;
            reader = null;
            readerSeq = -1;
            r.close();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            cursor.close();
            forceBeforeClosing();
            closeReader();
        } finally {
            closeTail();
        }
    }
}
