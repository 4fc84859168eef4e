package io.signalbox.sdk.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The one background writer of a {@code Monitoring} instance: a daemon thread that owns the
 * socket. It connects (and reconnects with exponential backoff and jitter), writes {@code hello}
 * first on every connection, then batches the lines held in the {@link Ring} into one socket
 * write of up to {@value #BATCH_BYTES} bytes, and releases them from the ring only once they were
 * written. Before every write it checks, without blocking, whether the peer has closed the
 * connection; a closed or failing connection leaves the unwritten lines in the ring, to be
 * replayed in order after the next connect. While connected and idle it writes a
 * {@code heartbeat} every heartbeat interval. On {@link #shutdown} it drains the ring, writes
 * {@code goodbye} and closes, within the close timeout.
 */
public final class Sender implements Runnable {
    private static final Logger LOG = System.getLogger("io.signalbox.sdk");
    static final int BATCH_BYTES = 128 * 1024;
    /** While traffic flows the writer polls the ring this often instead of waiting to be woken. */
    static final long POLL_NANOS = 1_000_000;
    /** ... for this long after the last line it wrote; then it sleeps until a caller wakes it. */
    static final long ACTIVE_NANOS = 1_000_000_000;
    private static final long SELECT_SLICE_MS = 100;

    /** What the writer needs from its owner. */
    public interface Lines {
        /** The {@code hello} line (without newline) for a new connection. */
        String hello();

        /** A {@code heartbeat} line reporting {@code buffered} held lines and the drops so far. */
        String heartbeat(int buffered, long dropped);

        /** The {@code goodbye} line reporting {@code sent} and {@code dropped}. */
        String goodbye(long sent, long dropped);
    }

    /** Everything the writer is configured with. */
    public record Settings(String host, int port, int maxLineBytes, long heartbeatNanos, long backoffMinNanos,
            long backoffMaxNanos, long connectTimeoutMillis, long closeTimeoutNanos) {
    }

    private final Ring ring;
    private final Settings settings;
    private final Lines lines;
    private final AtomicLong dropped;
    private final AtomicLong sent = new AtomicLong();
    private final ByteBuffer batch = ByteBuffer.allocateDirect(BATCH_BYTES);
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(4096);
    private final int wakeAbove;

    private volatile Thread thread;
    /** True while the writer is parked waiting for lines: producers then unpark it. */
    private volatile boolean idle;
    private volatile boolean connected;
    private volatile boolean overflowing;
    private volatile boolean stopping;
    private volatile long stopDeadline;
    private volatile boolean finished;

    private SocketChannel channel;
    private Selector selector;
    private long backoffNanos;
    private long nextConnectAt;
    private long nextHeartbeatAt;
    private long lastWriteAt = System.nanoTime() - ACTIVE_NANOS;
    private int failedAttempts;
    /** Whether the current connection delivered anything: if not, the next connect backs off. */
    private boolean progress;

    public Sender(Ring ring, Settings settings, Lines lines, AtomicLong dropped) {
        this.ring = ring;
        this.settings = settings;
        this.lines = lines;
        this.dropped = dropped;
        this.backoffNanos = settings.backoffMinNanos();
        this.wakeAbove = Math.max(1, ring.bound() / 2);
    }

    /** Starts the daemon writer thread. */
    public void start(String name) {
        Thread t = new Thread(this, name);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * Producer side: called after a successful {@link Ring#offer} that left {@code held} lines in
     * the ring. Wakes the writer only if it sleeps deeply (no traffic for a while) or the ring is
     * half full: while traffic flows the writer polls, so callers rarely pay for an unpark.
     */
    public void wake(int held) {
        if (idle || held > wakeAbove) {
            idle = false;
            LockSupport.unpark(thread);
        }
    }

    /** Producer side: an offer was refused. */
    public void overflowed() {
        if (!overflowing) {
            overflowing = true;
        }
    }

    public boolean connected() {
        return connected;
    }

    public boolean overflowing() {
        return overflowing;
    }

    public long sent() {
        return sent.get();
    }

    /**
     * Asks the writer to drain, say goodbye and stop, and waits for it at most the close timeout
     * (plus a little to close the socket). Lines still held when it gives up count as dropped.
     */
    public void shutdown() {
        Thread t = thread;
        if (t == null) {
            return;
        }
        stopDeadline = System.nanoTime() + settings.closeTimeoutNanos();
        stopping = true;
        LockSupport.unpark(t);
        long waitMs = settings.closeTimeoutNanos() / 1_000_000 + 1000;
        try {
            t.join(waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!finished) {
            LOG.log(Level.WARNING, "Signalbox SDK writer did not finish within {0} ms; abandoning it", waitMs);
            closeChannel();
        }
    }

    @Override
    public void run() {
        try {
            loop();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.ERROR, "Signalbox SDK writer failed; monitoring data is no longer sent", e);
        } finally {
            int left = ring.size();
            if (left > 0) {
                dropped.addAndGet(left);
            }
            closeChannel();
            if (selector != null) {
                try {
                    selector.close();
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, "closing the selector", e);
                }
            }
            finished = true;
        }
    }

    private void loop() {
        boolean closeAttempted = false;
        while (true) {
            boolean stop = stopping;
            if (stop && System.nanoTime() - stopDeadline > 0) {
                if (!ring.isEmpty()) {
                    LOG.log(Level.WARNING, "Signalbox SDK closed with {0} messages not sent (sidecar at {1}:{2})",
                            ring.size(), settings.host(), String.valueOf(settings.port()));
                }
                return;
            }
            if (channel == null) {
                if (stop && !closeAttempted) {
                    // closing: one attempt at once, whatever the backoff says
                    closeAttempted = true;
                    connect();
                } else if (System.nanoTime() - nextConnectAt >= 0) {
                    connect();
                }
                if (channel == null) {
                    if (stop && ring.isEmpty()) {
                        return; // nothing left to deliver, and goodbye needs a connection
                    }
                    long until = stop ? Math.min(nextConnectAt, stopDeadline) : nextConnectAt;
                    LockSupport.parkNanos(this, Math.max(0, until - System.nanoTime()));
                    continue;
                }
            }
            long now = System.nanoTime();
            if (now - nextHeartbeatAt >= 0) {
                if (writeLine(lines.heartbeat(ring.size(), dropped.get()))) {
                    nextHeartbeatAt = now + settings.heartbeatNanos();
                }
                continue;
            }
            int n = fillBatch();
            if (n > 0) {
                if (writeBatch()) {
                    release(n);
                } else {
                    // lines the kernel took before the failure count as sent (in flight); the rest is replayed
                    int taken = linesFullyWritten(n);
                    if (taken > 0) {
                        release(taken);
                    }
                }
                continue;
            }
            if (!ring.isEmpty()) {
                // a producer claimed a slot and is about to publish it
                Thread.onSpinWait();
                continue;
            }
            if (stop) {
                if (writeLine(lines.goodbye(sent.get(), dropped.get()))) {
                    closeChannel();
                    return;
                }
                continue;
            }
            if (now - lastWriteAt < ACTIVE_NANOS) {
                LockSupport.parkNanos(this, Math.min(POLL_NANOS, nextHeartbeatAt - now));
                continue;
            }
            idle = true;
            if (ring.isEmpty() && !stopping) {
                LockSupport.parkNanos(this, nextHeartbeatAt - now);
            }
            idle = false;
        }
    }

    /** Consumer: the first {@code n} lines of this batch were written (too long ones: skipped). */
    private void release(int n) {
        ring.release(n);
        lastWriteAt = System.nanoTime();
        if (!progress) {
            progress = true;
            backoffNanos = settings.backoffMinNanos();
        }
        int skippedHere = 0;
        for (int i = 0; i < n; i++) {
            if (lineEnds[i] < 0) {
                skippedHere++;
            }
        }
        sent.addAndGet(n - skippedHere);
        if (skippedHere > 0) {
            dropped.addAndGet(skippedHere);
        }
        if (overflowing && ring.size() < ring.bound()) {
            overflowing = false;
        }
    }

    /**
     * End offset in {@link #batch} of each line of the current batch, or -1 - (end offset of the
     * line before) for a line skipped as too long.
     */
    private int[] lineEnds = new int[256];

    /** Encodes up to a batch of held lines into {@link #batch}; returns how many were taken. */
    private int fillBatch() {
        batch.clear();
        int n = 0;
        while (true) {
            String line = ring.peek(n);
            if (line == null) {
                break;
            }
            if (n == lineEnds.length) {
                lineEnds = Arrays.copyOf(lineEnds, n * 2);
            }
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            if (bytes.length + 1 > settings.maxLineBytes()) {
                lineEnds[n++] = -1 - batch.position();
                Rate.oversize(bytes.length, settings.maxLineBytes());
                continue;
            }
            if (bytes.length + 1 > batch.remaining()) {
                break;
            }
            batch.put(bytes).put((byte) '\n');
            lineEnds[n++] = batch.position();
        }
        batch.flip();
        return n;
    }

    /** After a failed write: how many leading lines of the batch were handed to the kernel whole. */
    private int linesFullyWritten(int n) {
        int written = batch.position();
        int i = 0;
        while (i < n) {
            int end = lineEnds[i] >= 0 ? lineEnds[i] : -1 - lineEnds[i];
            if (end > written || lineEnds[i] < 0 && written == 0) {
                break;
            }
            i++;
        }
        return i;
    }

    private boolean writeLine(String line) {
        batch.clear();
        batch.put(line.getBytes(StandardCharsets.UTF_8)).put((byte) '\n').flip();
        return writeBatch();
    }

    /** Writes {@link #batch} fully, after checking the peer did not close; false (and disconnected) on failure. */
    private boolean writeBatch() {
        if (!batch.hasRemaining()) {
            return true;
        }
        try {
            if (peerClosed()) {
                disconnect("the sidecar closed the connection", null);
                return false;
            }
            while (batch.hasRemaining()) {
                if (channel.write(batch) == 0 && !awaitWritable()) {
                    disconnect("gave up waiting for the sidecar to read (closing)", null);
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            disconnect("write failed: " + e.getMessage(), e);
            return false;
        }
    }

    /** A non-blocking read: end of stream means the sidecar closed its side. Data it sent is ignored. */
    private boolean peerClosed() throws IOException {
        while (true) {
            scratch.clear();
            int r = channel.read(scratch);
            if (r < 0) {
                return true;
            }
            if (r == 0) {
                return false;
            }
        }
    }

    /** Waits for the socket to take more bytes; false when closing and the close deadline passed. */
    private boolean awaitWritable() throws IOException {
        SelectionKey key = channel.keyFor(selector);
        key.interestOps(SelectionKey.OP_WRITE);
        try {
            while (true) {
                if (selector.select(SELECT_SLICE_MS) > 0) {
                    selector.selectedKeys().clear();
                    return true;
                }
                if (stopping && System.nanoTime() - stopDeadline > 0) {
                    return false;
                }
            }
        } catch (ClosedSelectorException e) {
            throw new IOException("selector closed", e);
        } finally {
            if (key.isValid()) {
                key.interestOps(0);
            }
        }
    }

    private void connect() {
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open();
            ch.socket().setTcpNoDelay(true);
            ch.socket().connect(new InetSocketAddress(settings.host(), settings.port()),
                    (int) settings.connectTimeoutMillis());
            ch.configureBlocking(false);
            if (selector == null) {
                selector = Selector.open();
            }
            ch.register(selector, 0);
            channel = ch;
            if (!writeLine(lines.hello())) {
                return;
            }
            connected = true;
            if (failedAttempts > 0) {
                LOG.log(Level.INFO, "Signalbox SDK connected to {0}:{1} after {2} failed attempts; replaying {3} messages",
                        settings.host(), String.valueOf(settings.port()), failedAttempts, ring.size());
            }
            failedAttempts = 0;
            progress = false;
            nextHeartbeatAt = System.nanoTime() + settings.heartbeatNanos();
        } catch (IOException | RuntimeException e) {
            if (channel == null && ch != null) {
                try {
                    ch.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            failed(e);
        }
    }

    private void failed(Exception e) {
        closeChannel();
        if (failedAttempts++ == 0) {
            LOG.log(Level.WARNING, "Signalbox SDK cannot connect to {0}:{1} ({2}); buffering up to {3} messages and retrying",
                    settings.host(), String.valueOf(settings.port()), String.valueOf(e), ring.bound());
        } else {
            LOG.log(Level.DEBUG, "Signalbox SDK connect attempt {0} failed: {1}", failedAttempts, String.valueOf(e));
        }
        scheduleRetry();
    }

    private void disconnect(String why, IOException e) {
        boolean wasConnected = connected;
        closeChannel();
        if (wasConnected) {
            LOG.log(Level.INFO, "Signalbox SDK lost the connection to {0}:{1} ({2}); reconnecting",
                    settings.host(), String.valueOf(settings.port()), why);
        } else if (e != null) {
            LOG.log(Level.DEBUG, why, e);
        }
        if (progress) {
            nextConnectAt = System.nanoTime(); // it worked until now: reconnect at once
        } else {
            scheduleRetry(); // a sidecar that takes connections but drops them at once: back off
        }
    }

    private void scheduleRetry() {
        long jitter = (long) (backoffNanos * 0.2 * ThreadLocalRandom.current().nextDouble());
        nextConnectAt = System.nanoTime() + backoffNanos - jitter;
        backoffNanos = Math.min(settings.backoffMaxNanos(), backoffNanos * 2);
    }

    private void closeChannel() {
        connected = false;
        SocketChannel ch = channel;
        channel = null;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing the connection", e);
            }
        }
    }

    /** Rate-limited logging of lines the writer had to skip. */
    static final class Rate {
        private static final long EVERY_NANOS = 10_000_000_000L;
        private static long lastLog = System.nanoTime() - EVERY_NANOS;
        private static long suppressed;

        private Rate() {
        }

        static synchronized void oversize(int bytes, int max) {
            long now = System.nanoTime();
            if (now - lastLog >= EVERY_NANOS) {
                LOG.log(Level.WARNING, "Signalbox SDK dropped a message of {0} bytes (limit {1}); {2} more since the last report",
                        bytes, max, suppressed);
                lastLog = now;
                suppressed = 0;
            } else {
                suppressed++;
            }
        }
    }
}
