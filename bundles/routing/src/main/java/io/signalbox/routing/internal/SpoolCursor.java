package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code cursor} file of a {@link Spool}: the position of the first record not yet delivered
 * (segment seq {@code long}, offset {@code long}, CRC32C {@code int} of both), so records
 * replayed before a restart are not replayed again.
 *
 * <p>Written at most every {@value #INTERVAL_MILLIS} ms (and at close) and never forced: a cursor
 * that is behind after a crash or a power loss only replays a few delivered records again, which
 * at-least-once allows, and a replay does not cost an open, a write and a close per record.
 * Guarded by the spool's monitor.
 */
final class SpoolCursor {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolCursor.class);

    static final String FILE = "cursor";
    private static final long INTERVAL_MILLIS = 20;
    private static final int SIZE = 20;

    /** A position in the spool. */
    record Position(long seq, long offset) {
    }

    private final String name;
    private final Path path;
    private FileChannel file;
    private long pendingSeq = -1;
    private long pendingOffset;
    private long writtenNanos = System.nanoTime() - INTERVAL_MILLIS * 1_000_000L;

    SpoolCursor(String name, Path dir) {
        this.name = name;
        this.path = dir.resolve(FILE);
    }

    /** The position written by an earlier run, or {@code null} if there is none or it is damaged (logged). */
    Position read() {
        try {
            if (!Files.exists(path)) {
                return null;
            }
            byte[] b = Files.readAllBytes(path);
            ByteBuffer bb = ByteBuffer.wrap(b);
            if (b.length == SIZE && SpoolCodec.crcOf(b, 16) == bb.getInt(16)) {
                return new Position(bb.getLong(0), bb.getLong(8));
            }
            LOG.warn("spool of backend {}: cursor file {} is damaged; replaying from the oldest segment", name, path);
        } catch (IOException e) {
            LOG.warn("spool of backend {}: cursor file {} cannot be read ({}); replaying from the oldest segment",
                    name, path, e.toString());
        }
        return null;
    }

    /** Records the position of the first undelivered record; written now if the interval has passed. */
    void write(long seq, long offset) throws IOException {
        pendingSeq = seq;
        pendingOffset = offset;
        flushIfDue();
    }

    /** Nanoseconds until a pending position is due to be written ({@link #flushIfDue}), or {@code Long.MAX_VALUE}. */
    long nanosUntilDue() {
        return pendingSeq < 0 ? Long.MAX_VALUE
                : Math.max(1, writtenNanos + INTERVAL_MILLIS * 1_000_000L - System.nanoTime());
    }

    /** Writes a pending position if the interval has passed. */
    void flushIfDue() throws IOException {
        if (pendingSeq >= 0 && System.nanoTime() - writtenNanos >= INTERVAL_MILLIS * 1_000_000L) {
            flush();
        }
    }

    private void flush() throws IOException {
        if (pendingSeq < 0) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        b.putLong(pendingSeq).putLong(pendingOffset);
        b.putInt(SpoolCodec.crcOf(b.array(), 16));
        b.flip();
        if (file == null) {
            file = PrivateFiles.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
        while (b.hasRemaining()) {
            file.write(b, b.position());
        }
        pendingSeq = -1;
        writtenNanos = System.nanoTime();
    }

    /** Everything was delivered: no cursor. */
    void delete() throws IOException {
        pendingSeq = -1;
        closeFile();
        Files.deleteIfExists(path);
    }

    /** Writes a pending position and closes the file. */
    void close() throws IOException {
        try {
            flush();
        } finally {
            closeFile();
        }
    }

    private void closeFile() throws IOException {
        if (file != null) {
            FileChannel c = file;
            file = null;
            c.close();
        }
    }
}
