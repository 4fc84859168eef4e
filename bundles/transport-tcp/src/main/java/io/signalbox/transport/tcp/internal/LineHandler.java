package io.signalbox.transport.tcp.internal;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteOrder;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IdleStatus;
import org.apache.mina.core.session.IoSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.DropReason;
import io.signalbox.api.Ingest;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.Message;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.RejectCounters;

/**
 * Frames lines on the I/O thread and hands them to the pipeline: no codec filter, no String of
 * the line. Bytes are split on {@code '\n'} straight out of MINA's read buffer; a line that
 * spans reads is collected in the connection's carry-over buffer, which never grows beyond
 * {@code max.line.length} (+1 for a {@code '\r'}): a longer line is counted as
 * {@link DropReason#TOO_LONG} once and skipped up to its {@code '\n'}.
 *
 * <p>Back-pressure: when {@link Ingest#offer} returns {@code false} (the message is accepted,
 * the pipeline is above its high-water mark) or the pipeline is not writable after a read, the
 * session's reading is suspended and one {@link Ingest#whenWritable} callback resumes it.
 */
final class LineHandler extends IoHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(LineHandler.class);
    private static final AttributeKey CONNECTION = new AttributeKey(LineHandler.class, "connection");
    private static final int SCRATCH = 8192;

    private final Ingest ingest;
    private final LineDecoder decoder;
    private final RejectCounters rejects;
    private final TcpStats stats;
    /** For connections opened from now on; each connection keeps the limits it was opened with. */
    private volatile Limits limits;
    private final LogLimiter refusedLog = new LogLimiter();
    private final LogLimiter errorLog = new LogLimiter();

    LineHandler(Ingest ingest, LineDecoder decoder, RejectCounters rejects, TcpStats stats, int maxLineLength,
            int maxConnections) {
        this.ingest = ingest;
        this.decoder = decoder;
        this.rejects = rejects;
        this.stats = stats;
        this.limits = new Limits(maxLineLength, maxConnections);
    }

    /** The limits of one connection, fixed when it opens (a reconfiguration applies to new connections). */
    static final class Limits {
        final int maxLineLength;
        final int maxConnections;
        final String tooLongDetail;

        Limits(int maxLineLength, int maxConnections) {
            this.maxLineLength = maxLineLength;
            this.maxConnections = maxConnections;
            this.tooLongDetail = "line longer than max.line.length=" + maxLineLength + " bytes";
        }
    }

    /** New limits for the connections opened from now on. */
    void limits(int maxLineLength, int maxConnections) {
        this.limits = new Limits(maxLineLength, maxConnections);
    }

    /** The state of an accepted session, {@code null} for a refused or closed one. */
    static Connection connection(IoSession session) {
        return (Connection) session.getAttribute(CONNECTION);
    }

    @Override
    public void sessionOpened(IoSession session) {
        String remote = describe(session.getRemoteAddress());
        Limits l = limits;
        int maxConnections = l.maxConnections;
        int active = stats.active.incrementAndGet();
        if (active > maxConnections) {
            stats.active.decrementAndGet();
            stats.refused.increment();
            long suppressed = refusedLog.acquire();
            if (suppressed >= 0) {
                LOG.warn("Refused connection from {}: max.connections={} reached ({} more refusals suppressed)",
                        remote, maxConnections, suppressed);
            }
            session.closeNow();
            return;
        }
        stats.accepted.increment();
        session.setAttribute(CONNECTION, new Connection(session, remote, l));
        LOG.debug("Connection from {} opened ({} active)", remote, active);
    }

    @Override
    public void messageReceived(IoSession session, Object message) {
        Connection c = connection(session);
        if (c == null) {
            return; // refused, closing
        }
        c.reading = true;
        try {
            receive(c, (IoBuffer) message);
        } finally {
            c.lastActivity = System.currentTimeMillis();
            c.reading = false;
        }
    }

    private void receive(Connection c, IoBuffer buf) {
        int n = buf.remaining();
        stats.bytes.add(n);
        int offers;
        if (buf.hasArray()) {
            int off = buf.arrayOffset() + buf.position();
            offers = frame(c, buf.array(), off, off + n);
            buf.position(buf.limit());
        } else {
            byte[] scratch = new byte[Math.min(n, SCRATCH)];
            offers = 0;
            while (buf.hasRemaining()) {
                int len = Math.min(buf.remaining(), scratch.length);
                buf.get(scratch, 0, len);
                offers |= frame(c, scratch, 0, len);
            }
        }
        if ((offers & FULL) != 0 || !ingest.isWritable()) {
            suspend(c);
        }
    }

    private static final int FULL = 1;

    /**
     * Splits {@code buf[from .. to)} into lines and delivers the complete ones.
     *
     * @return {@link #FULL} if an offer reported the pipeline above its high-water mark, else 0
     */
    int frame(Connection c, byte[] buf, int from, int to) {
        int maxLineLength = c.limits.maxLineLength;
        int result = 0;
        int delivered = 0;
        int i = from;
        while (i < to) {
            int nl = indexOfNewline(buf, i, to);
            if (nl < 0) {
                int rest = to - i;
                if (!c.discarding) {
                    if (c.carryLength + rest > maxLineLength + 1) { // +1: room for a '\r'
                        c.carryLength = 0;
                        c.discarding = true;
                        rejects.record(DropReason.TOO_LONG, c.limits.tooLongDetail, c);
                    } else {
                        c.append(buf, i, rest);
                    }
                }
                break;
            }
            if (c.discarding) {
                c.discarding = false;
            } else if (c.carryLength > 0) {
                int rest = nl - i;
                if (c.carryLength + rest > maxLineLength + 1) {
                    rejects.record(DropReason.TOO_LONG, c.limits.tooLongDetail, c);
                } else {
                    c.append(buf, i, rest);
                    int r = line(c, c.carry, 0, c.carryLength);
                    result |= r;
                    delivered += r >>> 1;
                }
                c.carryLength = 0;
            } else {
                int r = line(c, buf, i, nl - i);
                result |= r;
                delivered += r >>> 1;
            }
            i = nl + 1;
        }
        if (delivered > 0) {
            stats.received.add(delivered);
        }
        return result & FULL;
    }

    /**
     * Decodes and offers one line (without its {@code '\n'}).
     *
     * @return bit 0: {@link #FULL}; bit 1: a message was delivered
     */
    private int line(Connection c, byte[] buf, int off, int len) {
        int effective = len > 0 && buf[off + len - 1] == '\r' ? len - 1 : len;
        if (effective > c.limits.maxLineLength) {
            rejects.record(DropReason.TOO_LONG, c.limits.tooLongDetail, c);
            return 0;
        }
        DecodeResult r = decoder.decode(buf, off, len);
        Message m = r.message();
        if (m != null) {
            try {
                return ingest.offer(m) ? 2 : 2 | FULL;
            } catch (RuntimeException e) {
                long suppressed = errorLog.acquire();
                if (suppressed >= 0) {
                    LOG.error("Ingest failed on a message from {} ({} more suppressed)", c, suppressed, e);
                }
                return 0;
            }
        }
        if (r.isRejected()) {
            rejects.record(r.reason(), r.detail(), c);
        }
        return 0;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long NEWLINES = ONES * '\n';

    /**
     * Index of the first {@code '\n'} in {@code buf[from .. to)}, or -1. Eight bytes per step
     * (the classic "has zero byte" bit trick on the bytes XOR '\n'): the scan was 7 % of the I/O
     * threads' time byte by byte.
     */
    static int indexOfNewline(byte[] buf, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            long x = (long) LONGS.get(buf, i) ^ NEWLINES;
            long found = (x - ONES) & ~x & HIGHS;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void suspend(Connection c) {
        if (c.suspended.compareAndSet(false, true)) {
            c.session.suspendRead();
            stats.suspensions.increment();
            ingest.whenWritable(c::resume);
        }
    }

    /** A last line without {@code '\n'} is decoded when its connection ends. */
    void finish(Connection c) {
        if (c.carryLength > 0 && !c.discarding) {
            int r = line(c, c.carry, 0, c.carryLength);
            if ((r & 2) != 0) {
                stats.received.increment();
            }
        }
        c.carryLength = 0;
        c.discarding = false;
    }

    @Override
    public void sessionClosed(IoSession session) {
        Connection c = (Connection) session.removeAttribute(CONNECTION);
        if (c == null) {
            return; // a refused connection
        }
        finish(c);
        int active = stats.active.decrementAndGet();
        LOG.debug("Connection from {} closed ({} active)", c, active);
    }

    @Override
    public void sessionIdle(IoSession session, IdleStatus status) {
        Connection c = connection(session);
        if (c != null && !c.suspended.get()) {
            LOG.debug("Closing idle connection from {}", c);
            session.closeNow();
        }
    }

    @Override
    public void exceptionCaught(IoSession session, Throwable cause) {
        Connection c = connection(session);
        Object who = c != null ? c : describe(session.getRemoteAddress());
        if (cause instanceof IOException) {
            // resets and broken pipes are the client's business; MINA closes the session
            LOG.debug("I/O error on connection from {}: {}", who, cause.toString());
            return;
        }
        long suppressed = errorLog.acquire();
        if (suppressed >= 0) {
            LOG.error("Unexpected error on connection from {} ({} more suppressed)", who, suppressed, cause);
        }
    }

    private static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress) {
            InetSocketAddress a = (InetSocketAddress) address;
            return a.getHostString() + ":" + a.getPort();
        }
        return String.valueOf(address);
    }
}
