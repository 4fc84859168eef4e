package io.signalbox.transport.uds.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.protocol.LineSession;

/**
 * One accepted connection, read by its own thread with blocking reads (a local socket: at most
 * {@code max.connections} threads). The bytes go to the shared {@link LineSession}; when the
 * pipeline is full the thread waits for {@code whenWritable} before it reads on.
 */
final class UdsConnection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(UdsConnection.class);
    private static final int READ_BUFFER = 16 * 1024;

    final SocketChannel channel;
    final PeerCredentials peer;
    final String name;
    private final LineSession lines;
    private final UdsTransport owner;
    /** {@link System#currentTimeMillis()} of the last read or the end of its processing. */
    volatile long lastActivity = System.currentTimeMillis();
    /** The thread is processing a read right now (the shutdown drain waits for it). */
    volatile boolean reading;
    /** Waiting for the pipeline to have room. */
    volatile boolean suspended;
    /** Closed to make room for another connection: its partial line is not delivered. */
    volatile boolean evicted;

    UdsConnection(SocketChannel channel, PeerCredentials peer, String name, LineSession lines, UdsTransport owner) {
        this.channel = channel;
        this.peer = peer;
        this.name = name;
        this.lines = lines;
        this.owner = owner;
    }

    @Override
    public void run() {
        byte[] buf = new byte[READ_BUFFER];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        boolean refused = false;
        try {
            while (true) {
                bb.clear();
                int n = channel.read(bb);
                if (n < 0) {
                    break;
                }
                reading = true;
                int r;
                try {
                    owner.stats.bytes.add(n);
                    r = lines.receive(buf, 0, n);
                    owner.sawSource(lines.lastSource(), peer);
                } finally {
                    lastActivity = System.currentTimeMillis();
                    reading = false;
                }
                if ((r & LineSession.CLOSE) != 0) {
                    refused = true;
                    owner.writeAndClose(channel, lines.errorLine());
                    return;
                }
                if ((r & LineSession.FULL) != 0 || !owner.ingest().isWritable()) {
                    awaitRoom();
                }
            }
        } catch (ClosedChannelException e) {
            LOG.debug("Connection {} closed by the sidecar (idle, shutdown)", this);
        } catch (IOException e) {
            LOG.debug("I/O error on connection {}: {}", this, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!refused && !evicted) {
                lines.finish();
                owner.sawSource(lines.lastSource(), peer);
            }
            owner.closed(this);
        }
    }

    private void awaitRoom() throws InterruptedException {
        owner.stats.suspensions.increment();
        suspended = true;
        try {
            CountDownLatch room = new CountDownLatch(1);
            owner.ingest().whenWritable(room::countDown);
            // a bounded wait in a loop: a closed channel ends the wait even if the callback never comes
            while (!room.await(100, TimeUnit.MILLISECONDS)) {
                if (!channel.isOpen()) {
                    return;
                }
            }
        } finally {
            suspended = false;
            lastActivity = System.currentTimeMillis();
        }
    }

    /** Quiet for {@code quietMs}: not reading, not waiting for room, nothing read for that long. */
    boolean quietFor(long quietMs, long now) {
        return !reading && !suspended && now - lastActivity >= quietMs;
    }

    LineSession lines() {
        return lines;
    }

    /** Closed to make room: told why, then closed; its reader thread ends on the closed channel. */
    void evict(byte[] errorLine) {
        evicted = true;
        owner.writeAndClose(channel, errorLine);
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("Closing {}: {}", this, e.toString());
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
