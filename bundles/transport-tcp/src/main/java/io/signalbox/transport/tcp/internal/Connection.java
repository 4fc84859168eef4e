package io.signalbox.transport.tcp.internal;

import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.future.DefaultWriteFuture;
import org.apache.mina.core.future.WriteFuture;
import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.session.AbstractIoSession;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.core.write.DefaultWriteRequest;

import io.signalbox.protocol.LineSession;

/**
 * Per-connection state. The {@link LineSession} (framing, authentication) is only touched by
 * the session's I/O thread; {@link #suspended} and {@link #resumedAt} are shared with the
 * pipeline thread that runs the {@code whenWritable} callback and with the shutdown drain.
 */
final class Connection {
    final IoSession session;
    /** {@code host:port} of the client, for log lines. */
    final String remote;
    /** Framing, authentication and ingest of this connection's lines. */
    final LineSession lines;

    /** Reading is suspended and one {@code whenWritable} callback is registered. */
    final AtomicBoolean suspended = new AtomicBoolean();
    /**
     * {@link System#currentTimeMillis()} of the last resume or of the end of the last read's
     * processing, for the shutdown quiet check.
     */
    volatile long lastActivity;
    /** The I/O thread is processing a read of this connection right now. */
    volatile boolean reading;

    /** Line length and connection limits in force when this connection opened. */
    final LineHandler.Limits limits;
    /** Without TLS: the handler is given MINA's own read buffers (which {@link ReadBuffers} may recycle). */
    final boolean plain;

    Connection(IoSession session, String remote, LineHandler.Limits limits, LineSession lines, boolean plain) {
        this.session = session;
        this.remote = remote;
        this.limits = limits;
        this.lines = lines;
        this.plain = plain;
    }

    /** Runs on a pipeline thread when the pipeline has room again. */
    void resume() {
        if (suspended.compareAndSet(true, false)) {
            lastActivity = System.currentTimeMillis();
            session.resumeRead();
            wakeUp();
        }
    }

    /**
     * MINA's {@code resumeRead()} only changes the selection key's interest set; the I/O thread
     * applies it at its next select, which can be up to 1 s away when no other event comes.
     * A flush request (with nothing to write) wakes that thread's selector at once.
     */
    @SuppressWarnings("unchecked")
    private void wakeUp() {
        if (session instanceof AbstractIoSession) {
            IoProcessor<IoSession> processor = (IoProcessor<IoSession>) ((AbstractIoSession) session).getProcessor();
            if (processor != null && !session.isClosing()) {
                processor.flush(session);
            }
        }
    }

    /**
     * Asks the session's I/O thread for one full pass over its selector: an empty write request,
     * queued straight on the processor, is completed in the flush step that follows the read step
     * of the next pass. Once the returned future is done, whatever the client had sent before this
     * call was in the kernel and has been read (or the session's reads are suspended, which the
     * quiet check sees). Only for plain connections: with TLS the write would go through the TLS
     * filter; {@code null} then, and for sessions that are not MINA's own.
     */
    static WriteFuture readPass(IoSession session) {
        if (!(session instanceof AbstractIoSession) || session.getFilterChain().contains(TcpTransport.TLS_FILTER)) {
            return null;
        }
        @SuppressWarnings("unchecked")
        IoProcessor<IoSession> processor = (IoProcessor<IoSession>) ((AbstractIoSession) session).getProcessor();
        if (processor == null) {
            return null;
        }
        IoBuffer empty = IoBuffer.wrap(new byte[0]);
        empty.mark(); // the processor resets a written buffer to its mark before messageSent
        WriteFuture done = new DefaultWriteFuture(session);
        processor.write(session, new DefaultWriteRequest(empty, done));
        return done;
    }

    /**
     * Whether this connection has been quiet for {@code quietMs}: not reading now, suspended
     * neither, and no read, end of processing or resume for that long.
     */
    boolean quietFor(long quietMs, long now) {
        return !reading && !suspended.get()
                && now - Math.max(session.getLastReadTime(), lastActivity) >= quietMs;
    }

    @Override
    public String toString() {
        return remote;
    }
}
