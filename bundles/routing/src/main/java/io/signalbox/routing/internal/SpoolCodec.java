package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/**
 * The record format of a {@link Spool}: a big-endian {@code int} payload length, an {@code int}
 * CRC32C of the payload, then the payload ({@link #encode}).
 *
 * <p>An instance encodes into a buffer of the calling thread (the channel workers and the engine's
 * stop: a handful, however many spools there are; ten thousand channels do not hold ten thousand
 * buffers); reading is static and never throws on damaged contents, it names the problem instead
 * ({@link #read}).
 */
final class SpoolCodec {
    static final int HEADER = 8;
    /** Largest payload accepted when reading; anything longer is treated as corruption. */
    static final int MAX_RECORD = 256 * 1024 * 1024;
    private static final byte FORMAT = 1;

    private static final int INITIAL_BUFFER = 64 * 1024;
    /** Kept per thread up to this size; a larger one (a huge batch) is dropped after its record. */
    private static final int KEPT_BUFFER = 4 * 1024 * 1024;
    private static final ThreadLocal<ByteBuffer> BUFFERS = ThreadLocal.withInitial(() -> ByteBuffer.allocate(INITIAL_BUFFER));

    private final CRC32C crc = new CRC32C();
    /** The calling thread's buffer while {@link #encode} runs. */
    private ByteBuffer buffer;

    /** A record read from a segment: its batch and payload length, or the problem that stopped the read. */
    record Read(Batch batch, int length, String problem) {
        /** The offset of the next record, if this one was read. */
        long end(long at) {
            return at + HEADER + length;
        }
    }

    /** The record of one batch, header included, ready to write (valid until the next call on this thread). */
    ByteBuffer encode(Batch batch) {
        buffer = BUFFERS.get();
        buffer.clear();
        buffer.position(HEADER);
        encodePayload(batch);
        int length = buffer.position() - HEADER;
        crc.reset();
        crc.update(buffer.array(), HEADER, length);
        buffer.putInt(0, length);
        buffer.putInt(4, (int) crc.getValue());
        buffer.flip();
        ByteBuffer record = buffer;
        BUFFERS.set(record.capacity() <= KEPT_BUFFER ? record : ByteBuffer.allocate(INITIAL_BUFFER));
        buffer = null;
        return record;
    }

    /**
     * Payload: format byte 1, source, message count {@code int}, then per message: type
     * ordinal byte, ts {@code long}, tid, sid, pid, level, span flag byte [name, status,
     * start {@code long}, end {@code long}], line. Strings are an {@code int} UTF-8 length
     * ({@code -1} = null) and the bytes; the line is an {@code int} length and its bytes. The
     * decoded envelope fields are kept so replay never re-parses a line.
     */
    private void encodePayload(Batch batch) {
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

    // --- reading ---------------------------------------------------------------------------

    /**
     * Reads the record at {@code at}; a record reaching beyond {@code limit} (the segment's size)
     * is torn.
     */
    static Read read(FileChannel c, long at, long limit) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER);
        if (readFully(c, h, at) != HEADER) {
            return problem("torn record header");
        }
        int length = h.getInt(0);
        int sum = h.getInt(4);
        if (length < 0 || length > MAX_RECORD) {
            return problem("bad record length " + length);
        }
        if (at + HEADER + length > limit) {
            return problem("torn record");
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        if (readFully(c, payload, at + HEADER) != length || crcOf(payload.array(), length) != sum) {
            return problem("CRC mismatch");
        }
        Batch b = decode(payload.array(), length);
        return b == null ? problem("undecodable record") : new Read(b, length, null);
    }

    private static Read problem(String problem) {
        return new Read(null, 0, problem);
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

    static int crcOf(byte[] b, int length) {
        CRC32C c = new CRC32C();
        c.update(b, 0, length);
        return (int) c.getValue();
    }

    /** Reads until {@code into} is full or the file ends; returns the bytes read. */
    static int readFully(FileChannel c, ByteBuffer into, long position) throws IOException {
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
}
