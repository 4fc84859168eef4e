package io.signalbox.transport.tcp.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.service.IoHandlerAdapter;
import org.apache.mina.core.session.AttributeKey;
import org.apache.mina.core.session.IdleStatus;
import org.apache.mina.core.session.IoSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.LogLimiter;
import io.signalbox.protocol.LineIngest;
import io.signalbox.protocol.LineSession;

/**
 * Hands the bytes MINA read to the connection's {@link LineSession} (framing, authentication,
 * decoding and ingest, shared with the other stream transports in {@code io.signalbox.protocol}):
 * no codec filter, no String of the line. Lines are split on {@code '\n'} straight out of MINA's
 * read buffer.
 *
 * <p>Back-pressure: when {@link io.signalbox.api.Ingest#offer} returns {@code false} (the message
 * is accepted, the pipeline is above its high-water mark) or the pipeline is not writable after a
 * read, the session's reading is suspended and one {@code whenWritable} callback resumes it.
 *
 * <p>A connection that fails to authenticate, or that is refused because {@code max.connections}
 * are open, gets one error line (docs/protocol.md) and is closed once it is written.
 */
final class LineHandler extends IoHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(LineHandler.class);
    private static final AttributeKey CONNECTION = new AttributeKey(LineHandler.class, "connection");
    /** Set on a session that is being told why it is closed: its error line must be written first. */
    private static final AttributeKey REFUSED = new AttributeKey(LineHandler.class, "refused");
    private static final int SCRATCH = 8192;

    private final LineIngest lines;
    private final TcpStats stats;
    /** For connections opened from now on; each connection keeps the limits it was opened with. */
    private volatile Limits limits;
    private final LogLimiter refusedLog = new LogLimiter();
    private final LogLimiter errorLog = new LogLimiter();
    /** Where a plain connection's read buffer goes once processed; {@code null}: left to the GC. */
    private final ReadBuffers readBuffers;

    LineHandler(LineIngest lines, TcpStats stats, int maxLineLength, int maxConnections) {
        this(lines, stats, maxLineLength, maxConnections, 10, null);
    }

    LineHandler(LineIngest lines, TcpStats stats, int maxLineLength, int maxConnections, int evictAfterSeconds,
            ReadBuffers readBuffers) {
        this.lines = lines;
        this.stats = stats;
        this.limits = new Limits(maxLineLength, maxConnections, evictAfterSeconds);
        this.readBuffers = readBuffers;
    }

    /** The limits of one connection, fixed when it opens (a reconfiguration applies to new connections). */
    static final class Limits {
        final int maxLineLength;
        final int maxConnections;
        final long evictAfterMs;

        Limits(int maxLineLength, int maxConnections, int evictAfterSeconds) {
            this.maxLineLength = maxLineLength;
            this.maxConnections = maxConnections;
            this.evictAfterMs = evictAfterSeconds * 1000L;
        }
    }

    /** New limits for the connections opened from now on. */
    void limits(int maxLineLength, int maxConnections, int evictAfterSeconds) {
        this.limits = new Limits(maxLineLength, maxConnections, evictAfterSeconds);
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
        if (active > maxConnections && evictStalest(session, l)) {
            active = stats.active.get();
        } else if (active > maxConnections) {
            stats.active.decrementAndGet();
            stats.refused.increment();
            long suppressed = refusedLog.acquire();
            if (suppressed >= 0) {
                LOG.warn("Refused connection from {}: max.connections={} reached ({} more refusals suppressed)",
                        remote, maxConnections, suppressed);
            }
            // told before anything of theirs is read: the client knows its lines were not taken
            refuse(session, LineIngest.errorLine("refused", "max_connections",
                    "max.connections=" + maxConnections + " reached, try again later"));
            return;
        }
        stats.accepted.increment();
        // with TLS the handler sees the filter's decrypted buffers, not MINA's read buffers: those are never recycled
        boolean plain = !session.getFilterChain().contains(TcpTransport.TLS_FILTER);
        session.setAttribute(CONNECTION, new Connection(session, remote, l, lines.open(remote, l.maxLineLength), plain));
        LOG.debug("Connection from {} opened ({} active)", remote, active);
    }

    /**
     * Makes room for {@code incoming} at max.connections: closes the open connection that delivered
     * nothing for the longest time, if that is at least {@code evict.after.seconds}, with an error
     * line. Idle and slow connections (one byte a second never completes a line) go first; a sender
     * that keeps delivering is never the stalest for long.
     *
     * @return whether a connection was closed and its slot taken over (the count stays as it is)
     */
    private boolean evictStalest(IoSession incoming, Limits l) {
        for (int attempt = 0; attempt < 3; attempt++) {
            Connection stalest = null;
            for (IoSession s : incoming.getService().getManagedSessions().values()) {
                Connection c = connection(s);
                if (s != incoming && c != null && (stalest == null || c.lines.lastProgress() < stalest.lines.lastProgress())) {
                    stalest = c;
                }
            }
            if (stalest == null || System.currentTimeMillis() - stalest.lines.lastProgress() < l.evictAfterMs) {
                return false;
            }
            if (stalest.session.removeAttribute(CONNECTION) == stalest) { // another opener may have taken it
                stats.active.decrementAndGet(); // its slot is the newcomer's: incremented already
                stats.evicted.increment();
                long suppressed = refusedLog.acquire();
                if (suppressed >= 0) {
                    LOG.warn("max.connections={} reached: closed {}, which delivered nothing for {} ms, to accept {} ({} more"
                            + " suppressed)", l.maxConnections, stalest,
                            System.currentTimeMillis() - stalest.lines.lastProgress(), describe(incoming.getRemoteAddress()),
                            suppressed);
                }
                refuse(stalest.session, LineIngest.errorLine("refused", "evicted", "max.connections=" + l.maxConnections
                        + " reached: this connection delivered nothing for the longest time and was closed"));
                return true;
            }
        }
        return false;
    }

    /** Writes {@code errorLine} and closes the session once it is written; nothing more is read. */
    static void refuse(IoSession session, byte[] errorLine) {
        session.setAttribute(REFUSED, Boolean.TRUE);
        session.suspendRead();
        session.write(IoBuffer.wrap(errorLine));
        session.closeOnFlush();
    }

    @Override
    public void messageReceived(IoSession session, Object message) {
        Connection c = connection(session);
        if (c == null) {
            return; // refused, closing
        }
        c.reading = true;
        IoBuffer buf = (IoBuffer) message;
        try {
            receive(c, buf);
        } finally {
            c.lastActivity = System.currentTimeMillis();
            c.reading = false;
            if (c.plain && readBuffers != null) {
                readBuffers.recycle(buf); // every byte of it was framed; lines and carry-over are copies
            }
        }
    }

    private void receive(Connection c, IoBuffer buf) {
        int n = buf.remaining();
        stats.bytes.add(n);
        int result;
        if (buf.hasArray()) {
            int off = buf.arrayOffset() + buf.position();
            result = c.lines.receive(buf.array(), off, off + n);
            buf.position(buf.limit());
        } else {
            byte[] scratch = new byte[Math.min(n, SCRATCH)];
            result = 0;
            while (buf.hasRemaining() && (result & LineSession.CLOSE) == 0) {
                int len = Math.min(buf.remaining(), scratch.length);
                buf.get(scratch, 0, len);
                result |= c.lines.receive(scratch, 0, len);
            }
            buf.position(buf.limit());
        }
        if ((result & LineSession.CLOSE) != 0) {
            close(c);
            return;
        }
        if ((result & LineSession.FULL) != 0 || !lines.ingest().isWritable()) {
            suspend(c);
        }
    }

    /** After a failed authentication: one error line, then the connection ends. */
    private void close(Connection c) {
        Connection removed = (Connection) c.session.removeAttribute(CONNECTION);
        if (removed != null) {
            stats.active.decrementAndGet();
        }
        refuse(c.session, c.lines.errorLine());
    }

    private void suspend(Connection c) {
        if (c.suspended.compareAndSet(false, true)) {
            c.session.suspendRead();
            stats.suspensions.increment();
            lines.ingest().whenWritable(c::resume);
        }
    }

    /** A last line without {@code '\n'} is decoded when its connection ends. */
    void finish(Connection c) {
        c.lines.finish();
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

    /**
     * The client half-closed (it sent everything). A refused session is closed by
     * {@code closeOnFlush} once its error line is out: closing it now would drop that line.
     */
    @Override
    public void inputClosed(IoSession session) {
        if (session.getAttribute(REFUSED) == null) {
            session.closeNow();
        }
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
