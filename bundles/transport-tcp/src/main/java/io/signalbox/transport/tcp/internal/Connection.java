package io.signalbox.transport.tcp.internal;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.mina.core.service.IoProcessor;
import org.apache.mina.core.session.AbstractIoSession;
import org.apache.mina.core.session.IoSession;

/**
 * Per-connection framing state. The carry-over buffer and the discard flag are only touched by
 * the session's I/O thread; {@link #suspended} and {@link #resumedAt} are shared with the
 * pipeline thread that runs the {@code whenWritable} callback and with the shutdown drain.
 */
final class Connection {
    private static final int INITIAL_CARRY = 512;

    final IoSession session;
    /** {@code host:port} of the client, for log lines. */
    final String remote;

    /** The start of a line whose {@code '\n'} has not arrived yet: {@code carry[0 .. carryLength)}. */
    byte[] carry = new byte[0];
    int carryLength;
    /** The current line is too long: skip bytes up to the next {@code '\n'}. */
    boolean discarding;

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

    Connection(IoSession session, String remote, LineHandler.Limits limits) {
        this.session = session;
        this.remote = remote;
        this.limits = limits;
    }

    /** Appends to the carry-over buffer, growing it geometrically (bounded by the caller). */
    void append(byte[] src, int off, int len) {
        int need = carryLength + len;
        if (need > carry.length) {
            carry = Arrays.copyOf(carry, Math.max(need, Math.max(INITIAL_CARRY, carry.length * 2)));
        }
        System.arraycopy(src, off, carry, carryLength, len);
        carryLength = need;
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
