package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/**
 * The disk spool of one backend: a segmented append-only log of batches under
 * {@code <spool.dir>/<backend>/}.
 *
 * <p>Format: segment files {@code <seq, 20 digits>.seg}; each record is a big-endian
 * {@code int} payload length, an {@code int} CRC32C of the payload, then the payload (see
 * {@link #encode}). A file {@code cursor} holds the position of the first record not yet
 * delivered (segment seq {@code long}, offset {@code long}, CRC32C {@code int} of both), so
 * records replayed before a restart are not replayed again. Fully delivered segments are
 * deleted.
 *
 * <p>On {@link #open} every segment is scanned; at the first record that is torn (shorter
 * than its header says) or corrupt (bad length, bad CRC, undecodable payload) the segment is
 * truncated there, the truncation counted ({@link #corruptRecords()}) and logged; files that
 * are not segments are ignored. The spool never throws on its own files' contents.
 *
 * <p>The size is bounded: an append that would exceed {@code maxBytes} first deletes the
 * oldest segments (counted in {@link #droppedMessages()}, logged at ERROR).
 *
 * <p>Thread-safe: the channel's spooler appends while its writer reads and advances; every
 * operation holds the spool's monitor (never the other way round), and the gauges are volatile.
 * Records are written to the operating system at once (they survive a crash of the process) and
 * forced to the device according to {@link Limits#fsync()}; the cursor is never forced (after a
 * power loss some delivered records may be replayed again: at-least-once).
 */
final class Spool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);

    static final String SUFFIX = ".seg";
    static final int HEADER = 8;
    private static final byte FORMAT = 1;
    /** Largest payload accepted when reading; anything longer is treated as corruption. */
    static final int MAX_RECORD = 256 * 1024 * 1024;
    private static final String CURSOR = "cursor";
    private static final long CURSOR_INTERVAL_MILLIS = 20;
    /** Highest segment number accepted when reading; numbers count from 1, one per segment. */
    static final long MAX_SEQ = 999_999_999_999_999_999L;

    /** When appended records are forced to the device ({@code spool.fsync}). */
    enum Fsync {
        /** After every append: a record survives power loss once append returns. */
        ALWAYS,
        /** At most every {@link Limits#fsyncIntervalMillis()} (by the append or {@link #forceIfDue}). */
        INTERVAL,
        /** Never: records survive a crash of the process, not of the machine. */
        NEVER
    }

    /** Bounds and fsync policy, read at every append so a configuration change applies at once. */
    interface Limits {
        long maxBytes();

        long segmentBytes();

        default Fsync fsync() {
            return Fsync.NEVER;
        }

        default long fsyncIntervalMillis() {
            return 1000;
        }
    }

    private static final class Segment {
        final long seq;
        final Path path;
        long size;
        long messages;
        /** Message count of every record, in order, for the gauges as records are consumed. */
        final ArrayDeque<Integer> recordMessages = new ArrayDeque<>();

        Segment(long seq, Path path) {
            this.seq = seq;
            this.path = path;
        }
    }

    /** A record read for replay; {@link #advance} consumes it. */
    record Record(Batch batch, long seq, long nextOffset) {
    }

    private final String name;
    private final Path dir;
    private final Limits limits;
    private final ArrayDeque<Segment> segments = new ArrayDeque<>();
    private final CRC32C crc = new CRC32C();
    private final io.signalbox.api.LogLimiter fullLog = new io.signalbox.api.LogLimiter();
    private ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    private FileChannel tail;
    private FileChannel reader;
    private long readerSeq = -1;
    /** Offset of the first undelivered record in the head segment. */
    private long readOffset;
    private FileChannel cursorFile;
    private long pendingCursorSeq = -1;
    private long pendingCursorOffset;
    private long cursorWrittenNanos = System.nanoTime() - CURSOR_INTERVAL_MILLIS * 1_000_000L;
    /** Appended since the last force. */
    private boolean dirty;
    private long lastForceNanos = System.nanoTime();

    private volatile long bytes;
    private volatile long messages;
    private volatile long dropped;
    private volatile long corrupt;
    /** Files in the spool directory that are not the spool's own, found at open. */
    private volatile long ignored;
    /**
     * The highest segment number in use: kept segments and the cursor's (whose segment may have been
     * removed at open). New segments are numbered above it, so a stale cursor never points past them.
     */
    private long highestSeq;
    /** Records not yet delivered, for {@link #isEmpty()}. */
    private volatile int pendingRecords;

    private Spool(String name, Path dir, Limits limits) {
        this.name = name;
        this.dir = dir;
        this.limits = limits;
    }

    /**
     * Opens (and recovers) the spool in {@code dir}; creates nothing until the first append.
     *
     * @throws IOException if the directory cannot be listed or a segment cannot be truncated
     */
    static Spool open(String name, Path dir, Limits limits) throws IOException {
        Spool s = new Spool(name, dir, limits);
        s.recover();
        return s;
    }

    /** The directory name used for a backend name: safe characters kept, others as {@code _xx}. */
    static String directoryName(String backend) {
        StringBuilder sb = new StringBuilder(backend.length());
        for (byte b : backend.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
                sb.append(c);
            } else {
                sb.append('_').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        String s = sb.toString();
        return s.equals(".") || s.equals("..") ? "_2e" + s.substring(1) : s;
    }

    /** The inverse of {@link #directoryName}. */
    static String backendName(String directory) {
        if (directory.indexOf('_') < 0) {
            return directory;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < directory.length(); i++) {
            char c = directory.charAt(i);
            if (c == '_' && i + 2 < directory.length()) {
                out.write(Integer.parseInt(directory.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
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
        for (Segment seg : segments) {
            n += seg.recordMessages.size();
        }
        pendingRecords = n;
    }

    // --- append ----------------------------------------------------------------------------

    /** Appends one batch; when this returns, the record is in the operating system's hands. */
    synchronized void append(Batch batch) throws IOException {
        ByteBuffer record = encodeRecord(batch);
        int length = record.remaining();
        makeRoom(length);
        Segment last = segments.peekLast();
        if (last == null || tail == null || (last.size > 0 && last.size + length > limits.segmentBytes())) {
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
        last.messages += batch.size();
        last.recordMessages.addLast(batch.size());
        pendingRecords++;
        bytes += length;
        messages += batch.size();
        dirty = true;
        Fsync policy = limits.fsync();
        if (policy == Fsync.ALWAYS
                || (policy == Fsync.INTERVAL && System.nanoTime() - lastForceNanos >= limits.fsyncIntervalMillis() * 1_000_000L)) {
            force();
        }
    }

    /** Forces appended records to the device if {@code spool.fsync=interval} and the interval has passed. */
    synchronized void forceIfDue() throws IOException {
        if (pendingCursorSeq >= 0 && System.nanoTime() - cursorWrittenNanos >= CURSOR_INTERVAL_MILLIS * 1_000_000L) {
            flushCursor();
        }
        if (dirty && limits.fsync() == Fsync.INTERVAL
                && System.nanoTime() - lastForceNanos >= limits.fsyncIntervalMillis() * 1_000_000L) {
            force();
        }
    }

    private void force() throws IOException {
        if (tail != null) {
            tail.force(false);
        }
        dirty = false;
        lastForceNanos = System.nanoTime();
    }

    private Segment roll() throws IOException {
        if (dirty && limits.fsync() != Fsync.NEVER) {
            force(); // the segment being closed keeps the promise of the policy
        }
        closeTail();
        Files.createDirectories(dir);
        Segment prev = segments.peekLast();
        long seq = Math.max(prev == null ? 0 : prev.seq, highestSeq) + 1;
        highestSeq = seq;
        Segment s = new Segment(seq, dir.resolve(segmentName(seq)));
        tail = FileChannel.open(s.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        segments.addLast(s);
        return s;
    }

    /** Drops the oldest segments until {@code length} more bytes fit under the bound. */
    private void makeRoom(int length) throws IOException {
        long max = limits.maxBytes();
        while (bytes + length > max && !segments.isEmpty()) {
            Segment oldest = segments.peekFirst();
            if (oldest == segments.peekLast()) {
                if (oldest.recordMessages.isEmpty()) {
                    break; // nothing left to drop
                }
                roll(); // never drop the segment being appended to while it is the only one
            }
            long lostMessages = unconsumedMessages(oldest);
            long lostBytes = oldest.size - (oldest == segments.peekFirst() ? readOffset : 0);
            deleteHead();
            dropped += lostMessages;
            long suppressed = fullLog.permit(1);
            if (suppressed >= 0) {
                LOG.error("spool of backend {} is full ({} bytes, spool.max.mb): dropped its oldest segment with {} "
                        + "messages ({} bytes); {} messages dropped from this spool so far ({} more dropped segments "
                        + "not logged in the last {} s)", name, max, lostMessages, lostBytes, dropped, suppressed,
                        io.signalbox.api.LogLimiter.DEFAULT_INTERVAL_SECONDS);
            }
        }
    }

    private long unconsumedMessages(Segment s) {
        long n = 0;
        for (int m : s.recordMessages) {
            n += m;
        }
        return n;
    }

    // --- replay ----------------------------------------------------------------------------

    /**
     * The oldest record not yet delivered, or {@code null} if the spool is empty. A record that
     * cannot be read any more (the file changed under us) is skipped, counted and logged.
     */
    synchronized Record peek() throws IOException {
        while (!segments.isEmpty()) {
            Segment head = segments.peekFirst();
            if (head.recordMessages.isEmpty()) {
                if (head == segments.peekLast()) {
                    return null; // the tail, all delivered: kept open for appends
                }
                deleteHead();
                continue;
            }
            FileChannel r = reader(head);
            ByteBuffer h = ByteBuffer.allocate(HEADER);
            if (readFully(r, h, readOffset) == HEADER) {
                h.flip();
                int length = h.getInt();
                int sum = h.getInt();
                if (length >= 0 && length <= MAX_RECORD && readOffset + HEADER + length <= head.size) {
                    ByteBuffer payload = ByteBuffer.allocate(length);
                    if (readFully(r, payload, readOffset + HEADER) == length && crcOf(payload.array(), length) == sum) {
                        Batch b = decode(payload.array(), length);
                        if (b != null) {
                            return new Record(b, head.seq, readOffset + HEADER + length);
                        }
                    }
                }
            }
            corrupt++;
            LOG.error("spool of backend {}: segment {} cannot be read at offset {} any more; its remaining {} "
                    + "messages are skipped", name, head.path, readOffset, unconsumedMessages(head));
            long lost = unconsumedMessages(head);
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
        Segment head = segments.peekFirst();
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
            writeCursor(head.seq, readOffset);
        }
    }

    private FileChannel reader(Segment head) throws IOException {
        if (reader == null || readerSeq != head.seq) {
            closeReader();
            reader = FileChannel.open(head.path, StandardOpenOption.READ);
            readerSeq = head.seq;
        }
        return reader;
    }

    private void deleteHead() throws IOException {
        Segment head = segments.pollFirst();
        recount();
        if (head.seq == readerSeq) {
            closeReader();
        }
        if (segments.isEmpty()) {
            closeTail();
        }
        bytes -= head.size - readOffset;
        messages -= unconsumedMessages(head);
        readOffset = 0;
        Files.deleteIfExists(head.path);
        Segment next = segments.peekFirst();
        if (next != null) {
            writeCursor(next.seq, 0);
        } else {
            deleteCursor();
            bytes = 0;
            messages = 0;
        }
    }

    /**
     * Records the position of the first undelivered record. Written to the cursor file at most
     * every {@value #CURSOR_INTERVAL_MILLIS} ms (and at close): a cursor that is behind after a
     * crash only replays a few delivered records again, which at-least-once allows, and a
     * replay does not cost an open, a write and a close per record.
     */
    private void writeCursor(long seq, long offset) throws IOException {
        pendingCursorSeq = seq;
        pendingCursorOffset = offset;
        if (System.nanoTime() - cursorWrittenNanos >= CURSOR_INTERVAL_MILLIS * 1_000_000L) {
            flushCursor();
        }
    }

    private void flushCursor() throws IOException {
        if (pendingCursorSeq < 0) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(20);
        b.putLong(pendingCursorSeq).putLong(pendingCursorOffset);
        b.putInt(crcOf(b.array(), 16));
        b.flip();
        if (cursorFile == null) {
            cursorFile = FileChannel.open(dir.resolve(CURSOR), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
        while (b.hasRemaining()) {
            cursorFile.write(b, b.position());
        }
        pendingCursorSeq = -1;
        cursorWrittenNanos = System.nanoTime();
    }

    private void deleteCursor() throws IOException {
        pendingCursorSeq = -1;
        if (cursorFile != null) {
            FileChannel c = cursorFile;
            cursorFile = null;
            c.close();
        }
        Files.deleteIfExists(dir.resolve(CURSOR));
    }

    // --- recovery --------------------------------------------------------------------------

    private void recover() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Long> seqs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String f = p.getFileName().toString();
                if (f.equals(CURSOR)) {
                    continue;
                }
                long seq = segmentSeq(f);
                if (seq > 0 && Files.isRegularFile(p)) {
                    seqs.add(seq);
                } else {
                    ignored++;
                    LOG.warn("spool of backend {}: ignoring {}, not a spool file (left as it is)", name, p);
                }
            }
        }
        seqs.sort(null);
        long[] cursor = readCursor();
        for (long seq : seqs) {
            if (cursor != null && seq < cursor[0]) {
                Files.deleteIfExists(dir.resolve(segmentName(seq))); // delivered before the restart
                continue;
            }
            Segment s = new Segment(seq, dir.resolve(segmentName(seq)));
            scan(s);
            if (s.recordMessages.isEmpty()) {
                // nothing (left) in it: removed, so that a damaged name cannot push the numbering up either
                Files.deleteIfExists(s.path);
                continue;
            }
            segments.addLast(s);
            highestSeq = seq;
        }
        if (cursor != null) {
            highestSeq = Math.max(highestSeq, Math.min(cursor[0], MAX_SEQ));
        }
        if (cursor != null && !segments.isEmpty() && segments.peekFirst().seq == cursor[0]) {
            skipDelivered(segments.peekFirst(), cursor[1]);
        }
        long b = 0;
        long m = 0;
        for (Segment s : segments) {
            b += s.size;
            m += unconsumedMessages(s);
        }
        this.bytes = b - readOffset;
        this.messages = m;
        recount();
        if (m > 0 || corrupt > 0) {
            LOG.info("spool of backend {}: {} messages ({} bytes) in {} segments to replay{}", name, m, bytes,
                    segments.size(), corrupt > 0 ? "; " + corrupt + " corrupt records truncated" : "");
        }
    }

    /** Marks the records before {@code offset} of the head segment as delivered. */
    private void skipDelivered(Segment head, long offset) throws IOException {
        long at = 0;
        FileChannel r = reader(head);
        ByteBuffer h = ByteBuffer.allocate(HEADER);
        while (at < offset && !head.recordMessages.isEmpty()) {
            h.clear();
            if (readFully(r, h, at) != HEADER) {
                break;
            }
            at += HEADER + h.getInt(0);
            head.recordMessages.pollFirst();
        }
        readOffset = at;
    }

    private long[] readCursor() {
        Path p = dir.resolve(CURSOR);
        try {
            if (!Files.exists(p)) {
                return null;
            }
            byte[] b = Files.readAllBytes(p);
            ByteBuffer bb = ByteBuffer.wrap(b);
            if (b.length == 20 && crcOf(b, 16) == bb.getInt(16)) {
                return new long[] { bb.getLong(0), bb.getLong(8) };
            }
            LOG.warn("spool of backend {}: cursor file {} is damaged; replaying from the oldest segment", name, p);
        } catch (IOException e) {
            LOG.warn("spool of backend {}: cursor file {} cannot be read ({}); replaying from the oldest segment",
                    name, p, e.toString());
        }
        return null;
    }

    /** Reads every record of a segment; truncates it at the first torn or corrupt one. */
    private void scan(Segment s) throws IOException {
        try (FileChannel c = FileChannel.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = c.size();
            long at = 0;
            ByteBuffer h = ByteBuffer.allocate(HEADER);
            String problem = null;
            while (at < size) {
                h.clear();
                if (readFully(c, h, at) != HEADER) {
                    problem = "torn record header";
                    break;
                }
                int length = h.getInt(0);
                int sum = h.getInt(4);
                if (length < 0 || length > MAX_RECORD || at + HEADER + length > size) {
                    problem = length < 0 || length > MAX_RECORD ? "bad record length " + length : "torn record";
                    break;
                }
                ByteBuffer payload = ByteBuffer.allocate(length);
                if (readFully(c, payload, at + HEADER) != length || crcOf(payload.array(), length) != sum) {
                    problem = "CRC mismatch";
                    break;
                }
                int count = messageCount(payload.array(), length);
                if (count < 0) {
                    problem = "undecodable record";
                    break;
                }
                s.recordMessages.addLast(count);
                s.messages += count;
                at += HEADER + length;
            }
            if (problem != null) {
                corrupt++;
                LOG.error("spool of backend {}: {} at offset {} of {} ({} bytes); the segment is truncated there, "
                        + "the {} records before it are kept", name, problem, at, s.path, size,
                        s.recordMessages.size());
                c.truncate(at);
            }
            s.size = at;
        }
    }

    // --- encoding --------------------------------------------------------------------------

    private ByteBuffer encodeRecord(Batch batch) {
        buffer.clear();
        buffer.position(HEADER);
        encode(batch);
        int length = buffer.position() - HEADER;
        crc.reset();
        crc.update(buffer.array(), HEADER, length);
        buffer.putInt(0, length);
        buffer.putInt(4, (int) crc.getValue());
        buffer.flip();
        return buffer;
    }

    /**
     * Payload: format byte 1, source, message count {@code int}, then per message: type
     * ordinal byte, ts {@code long}, tid, sid, pid, level, span flag byte [name, status,
     * start {@code long}, end {@code long}], line. Strings are an {@code int} UTF-8 length
     * ({@code -1} = null) and the bytes; the line is an {@code int} length and its bytes. The
     * decoded envelope fields are kept so replay never re-parses a line.
     */
    private void encode(Batch batch) {
        List<Message> ms = batch.messages();
        ensure(16 + batch.source().length() * 3);
        buffer.put(FORMAT);
        putString(batch.source());
        buffer.putInt(ms.size());
        for (int i = 0, n = ms.size(); i < n; i++) {
            Message m = ms.get(i);
            byte[] line = m.line();
            ensure(64 + line.length);
            buffer.put((byte) m.type().ordinal());
            buffer.putLong(m.timestamp());
            putString(m.traceId());
            putString(m.spanId());
            putString(m.parentSpanId());
            putString(m.level());
            SpanInfo span = m.span();
            if (span == null) {
                buffer.put((byte) 0);
            } else {
                buffer.put((byte) 1);
                putString(span.name());
                putString(span.status());
                ensure(16);
                buffer.putLong(span.start());
                buffer.putLong(span.end());
            }
            ensure(4 + line.length);
            buffer.putInt(line.length);
            buffer.put(line);
        }
    }

    private void putString(String s) {
        if (s == null) {
            ensure(4);
            buffer.putInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ensure(4 + b.length);
        buffer.putInt(b.length);
        buffer.put(b);
    }

    private void ensure(int more) {
        if (buffer.remaining() < more) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + more));
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }

    /** The batch of a payload, or {@code null} if it does not decode. */
    static Batch decode(byte[] payload, int length) {
        try {
            ByteBuffer b = ByteBuffer.wrap(payload, 0, length);
            if (b.get() != FORMAT) {
                return null;
            }
            String source = getString(b);
            int count = b.getInt();
            if (source == null || count < 0 || count > length) {
                return null;
            }
            MessageType[] types = MessageType.values();
            List<Message> ms = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int t = b.get();
                if (t < 0 || t >= types.length) {
                    return null;
                }
                long ts = b.getLong();
                String tid = getString(b);
                String sid = getString(b);
                String pid = getString(b);
                String level = getString(b);
                SpanInfo span = null;
                if (b.get() != 0) {
                    span = new SpanInfo(getString(b), getString(b), b.getLong(), b.getLong());
                }
                int len = b.getInt();
                if (len < 0 || len > b.remaining()) {
                    return null;
                }
                byte[] line = new byte[len];
                b.get(line);
                ms.add(new Message(source, ts, types[t], tid, sid, pid, level, span, line));
            }
            return b.hasRemaining() ? null : new Batch(source, ms);
        } catch (RuntimeException e) { // BufferUnderflowException, NullPointerException of a damaged record
            return null;
        }
    }

    private static int messageCount(byte[] payload, int length) {
        Batch b = decode(payload, length);
        return b == null ? -1 : b.size();
    }

    private static String getString(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0) {
            return null;
        }
        if (len > b.remaining()) {
            throw new IllegalArgumentException("string longer than its record");
        }
        String s = new String(b.array(), b.arrayOffset() + b.position(), len, StandardCharsets.UTF_8);
        b.position(b.position() + len);
        return s;
    }

    // --- files -----------------------------------------------------------------------------

    /** The sequence number of a segment file name, or -1 if it is not one ({@link #segmentName}). */
    static long segmentSeq(String fileName) {
        if (fileName.length() != 20 + SUFFIX.length() || !fileName.endsWith(SUFFIX)) {
            return -1;
        }
        long seq = 0;
        for (int i = 0; i < 20; i++) {
            char c = fileName.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            if (seq > (MAX_SEQ - (c - '0')) / 10) {
                return -1; // beyond anything this spool writes (it counts from 1): not ours
            }
            seq = seq * 10 + (c - '0');
        }
        return seq;
    }

    static String segmentName(long seq) {
        return String.format("%020d", seq) + SUFFIX;
    }

    private static int crcOf(byte[] b, int length) {
        CRC32C c = new CRC32C();
        c.update(b, 0, length);
        return (int) c.getValue();
    }

    private static int readFully(FileChannel c, ByteBuffer into, long position) throws IOException {
        int total = 0;
        while (into.hasRemaining()) {
            int n = c.read(into, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

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
            flushCursor();
            if (cursorFile != null) {
                FileChannel c = cursorFile;
                cursorFile = null;
                c.close();
            }
            if (dirty && limits.fsync() != Fsync.NEVER) {
                force();
            }
            closeReader();
        } finally {
            closeTail();
        }
    }
}
