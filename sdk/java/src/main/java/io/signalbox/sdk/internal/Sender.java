package io.signalbox.sdk.internal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
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

    /**
     * Everything the writer is configured with. {@code socketPath} non-null: a Unix domain socket
     * instead of host:port; {@code tls} non-null: TLS on TCP, verifying the server certificate
     * and its name against {@code serverName}; {@code awaitVerdict}: a secret is sent, so every
     * connection waits {@link #VERDICT_MILLIS} for a refusal before it writes messages.
     */
    public record Settings(String host, int port, int maxLineBytes, long heartbeatNanos, long backoffMinNanos,
            long backoffMaxNanos, long connectTimeoutMillis, long closeTimeoutNanos, Path socketPath,
            SSLSocketFactory tls, String serverName, boolean awaitVerdict) {
        public Settings(String host, int port, int maxLineBytes, long heartbeatNanos, long backoffMinNanos,
                long backoffMaxNanos, long connectTimeoutMillis, long closeTimeoutNanos) {
            this(host, port, maxLineBytes, heartbeatNanos, backoffMinNanos, backoffMaxNanos, connectTimeoutMillis,
                    closeTimeoutNanos, null, null, null, false);
        }

        /** Where the writer connects, for messages: {@code unix:/path} or {@code host:port}. */
        public String where() {
            return socketPath != null ? "unix:" + socketPath : host + ":" + port;
        }
    }

    /** With a secret: how long a new connection waits for a refusal of its hello before writing messages. */
    static final long VERDICT_MILLIS = 500;
    /** The same complaint (a refusal, a TLS failure) is logged at WARNING at most this often. */
    private static final long REPORT_EVERY_NANOS = 60_000_000_000L;
    private static final Pattern ERROR = Pattern.compile("\"error\"\\s*:\\s*\"([^\"\\\\]*)\"");
    private static final Pattern REASON = Pattern.compile("\"reason\"\\s*:\\s*\"([^\"\\\\]*)\"");

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
    /** The TLS connection instead of {@link #channel} (blocking writes), and the plain socket under it. */
    private SSLSocket tls;
    private Socket tlsRaw;
    private final StringBuilder answer = new StringBuilder();
    private final java.util.concurrent.atomic.AtomicLong authFailures = new java.util.concurrent.atomic.AtomicLong();
    private volatile String lastError;
    /** A connection was refused: every later one waits for the verdict on its hello too. */
    private boolean awaitVerdict;
    /** The last connection was refused as unauthorized: the next attempt after the longest backoff. */
    private boolean refusedAuth;
    private String saidWhat;
    private long saidAt;
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

    /** Connections the sidecar refused as {@code unauthorized}. */
    public long authFailures() {
        return authFailures.get();
    }

    /** The reason of the sidecar's last refusal ({@code bad_secret}, …), or null. */
    public String lastError() {
        return lastError;
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
            if (!open()) {
                if (stop && !closeAttempted) {
                    // closing: one attempt at once, whatever the backoff says
                    closeAttempted = true;
                    connect();
                } else if (System.nanoTime() - nextConnectAt >= 0) {
                    connect();
                }
                if (!open()) {
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

    private boolean open() {
        return channel != null || tls != null;
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
            if (tls != null) {
                // blocking: a sidecar that stops reading holds this write until shutdown() closes the socket
                OutputStream out = tls.getOutputStream();
                byte[] chunk = new byte[batch.remaining()];
                batch.get(chunk);
                out.write(chunk);
                out.flush();
                return true;
            }
            while (batch.hasRemaining()) {
                if (channel.write(batch) == 0 && !awaitWritable()) {
                    disconnect("gave up waiting for the sidecar to read (closing)", null);
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            drain();
            disconnect("write failed: " + e.getMessage(), e);
            return false;
        }
    }

    /**
     * After a failed TLS write: the refusal line may wait in the socket ahead of the reset our
     * write caused (the plain socket's available() no longer tells); read what is left, briefly.
     */
    private void drain() {
        if (tls == null) {
            return;
        }
        try {
            tls.setSoTimeout(50);
            byte[] buf = new byte[4096];
            int r;
            while ((r = tls.getInputStream().read(buf)) > 0) {
                answer.append(new String(buf, 0, r, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "reading what the sidecar sent before the connection broke", e);
        }
        if (answer.length() > 0) {
            for (String line : answer.toString().split("\n")) {
                answer(line);
            }
            answer.setLength(0);
        }
    }

    /**
     * A read that does not wait: end of stream means the sidecar closed its side. The only thing
     * a sidecar writes is one error line before it closes (docs/protocol.md, "Errors"): read,
     * counted and reported by {@link #answer(String)}.
     */
    private boolean peerClosed() throws IOException {
        while (true) {
            int r;
            byte[] got;
            if (tls != null) {
                if (tlsRaw.getInputStream().available() == 0) {
                    return false; // nothing arrived: a TLS read would wait (a failed write reads what is left: drain)
                }
                tls.setSoTimeout(1);
                byte[] buf = new byte[4096];
                try {
                    r = tls.getInputStream().read(buf);
                } catch (SocketTimeoutException e) {
                    return false; // a record without data (a session ticket)
                }
                got = buf;
            } else {
                scratch.clear();
                r = channel.read(scratch);
                got = null;
            }
            if (r < 0) {
                if (answer.length() > 0) {
                    answer(answer.toString()); // an error line without its newline
                    answer.setLength(0);
                }
                return true;
            }
            if (r == 0) {
                return false;
            }
            String text;
            if (got != null) {
                text = new String(got, 0, r, StandardCharsets.UTF_8);
            } else {
                scratch.flip();
                text = StandardCharsets.UTF_8.decode(scratch).toString();
            }
            answer.append(text);
            int nl;
            while ((nl = answer.indexOf("\n")) >= 0) {
                answer(answer.substring(0, nl));
                answer.delete(0, nl + 1);
            }
            if (answer.length() > 8192) {
                answer.delete(0, answer.length() - 4096); // bounded: a sidecar writes one short line
            }
        }
    }

    /** One line the sidecar wrote: a refusal ({@code unauthorized}) or that it is full ({@code refused}). */
    private void answer(String line) {
        Matcher error = ERROR.matcher(line);
        if (!error.find()) {
            return;
        }
        Matcher r = REASON.matcher(line);
        String reason = r.find() ? r.group(1) : "unknown";
        lastError = reason;
        awaitVerdict = true;
        if ("unauthorized".equals(error.group(1))) {
            authFailures.incrementAndGet();
            refusedAuth = true;
            report("auth:" + reason, "Signalbox SDK: the sidecar at {0} refused the connection: unauthorized ({1}){2}; "
                    + "{3} messages kept in the buffer, retrying in {4} ms", settings.where(), reason,
                    settings.awaitVerdict() ? "" : "; no secret is set (secret, SIGNALBOX_SECRET)",
                    String.valueOf(ring.size()), String.valueOf(settings.backoffMaxNanos() / 1_000_000));
        } else {
            report("refused:" + reason, "Signalbox SDK: the sidecar at {0} closed the connection: {1} ({2}); retrying",
                    settings.where(), error.group(1), reason);
        }
    }

    /** WARNING once per kind of trouble, again when it changes, else at most once a minute. */
    private void report(String what, String format, Object... args) {
        long now = System.nanoTime();
        if (what.equals(saidWhat) && now - saidAt < REPORT_EVERY_NANOS) {
            LOG.log(Level.DEBUG, format, args);
            return;
        }
        saidWhat = what;
        saidAt = now;
        LOG.log(Level.WARNING, format, args);
    }

    /**
     * The sidecar never acknowledges a hello, it only refuses one (an error line, then end of
     * stream): no message is written before {@link #VERDICT_MILLIS} passed without a refusal.
     * False (and disconnected) when refused.
     */
    private boolean verdict() throws IOException {
        long deadline = System.nanoTime() + VERDICT_MILLIS * 1_000_000;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || stopping && System.nanoTime() - stopDeadline > 0) {
                return true;
            }
            if (peerClosed()) {
                disconnect("the sidecar refused the connection", null);
                return false;
            }
            if (tls != null) {
                // a TLS read that waits for the rest of the window: a refusal, the end, or silence
                tls.setSoTimeout((int) Math.max(1, left / 1_000_000));
                byte[] buf = new byte[4096];
                int r;
                try {
                    r = tls.getInputStream().read(buf);
                } catch (java.net.SocketTimeoutException silence) {
                    continue;
                }
                if (r > 0) {
                    answer.append(new String(buf, 0, r, StandardCharsets.UTF_8));
                    int nl;
                    while ((nl = answer.indexOf("\n")) >= 0) {
                        answer(answer.substring(0, nl));
                        answer.delete(0, nl + 1);
                    }
                } else if (r < 0) {
                    if (answer.length() > 0) {
                        answer(answer.toString());
                    }
                    disconnect("the sidecar refused the connection", null);
                    return false;
                }
            } else {
                SelectionKey key = channel.keyFor(selector);
                key.interestOps(SelectionKey.OP_READ);
                try {
                    if (selector.select(Math.max(1, Math.min(left / 1_000_000, SELECT_SLICE_MS))) > 0) {
                        selector.selectedKeys().clear();
                    }
                } finally {
                    if (key.isValid()) {
                        key.interestOps(0);
                    }
                }
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
        if (settings.tls() != null) {
            connectTls();
            return;
        }
        SocketChannel ch = null;
        try {
            if (settings.socketPath() != null) {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(settings.socketPath()));
            } else {
                ch = SocketChannel.open();
                ch.socket().setTcpNoDelay(true);
                ch.socket().connect(new InetSocketAddress(settings.host(), settings.port()),
                        (int) settings.connectTimeoutMillis());
            }
            ch.configureBlocking(false);
            if (selector == null) {
                selector = Selector.open();
            }
            ch.register(selector, 0);
            channel = ch;
            if (!writeLine(lines.hello())) {
                return;
            }
            if ((settings.awaitVerdict() || awaitVerdict) && !verdict()) {
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

    /** TCP with TLS: a blocking {@link SSLSocket} over a plain socket (whose buffer tells whether anything arrived). */
    private void connectTls() {
        Socket raw = new Socket();
        try {
            raw.setTcpNoDelay(true);
            raw.connect(new InetSocketAddress(settings.host(), settings.port()), (int) settings.connectTimeoutMillis());
            raw.setSoTimeout((int) settings.connectTimeoutMillis());
            SSLSocket s = (SSLSocket) settings.tls().createSocket(raw, settings.serverName(), settings.port(), true);
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name serverName
            p.setProtocols(Arrays.stream(s.getSupportedProtocols())
                    .filter(x -> x.equals("TLSv1.2") || x.equals("TLSv1.3")).toArray(String[]::new));
            if (!isAddress(settings.serverName())) {
                p.setServerNames(List.of(new SNIHostName(settings.serverName())));
            }
            s.setSSLParameters(p);
            try {
                s.startHandshake();
            } catch (IOException e) {
                report("tls:" + e.getClass().getSimpleName() + e.getMessage(),
                        "Signalbox SDK: TLS with {0} failed: {1}; {2} messages buffered, retrying",
                        settings.where(), String.valueOf(e), String.valueOf(ring.size()));
                throw e;
            }
            tls = s;
            tlsRaw = raw;
            if (!writeLine(lines.hello())) {
                return;
            }
            if ((settings.awaitVerdict() || awaitVerdict) && !verdict()) {
                return;
            }
            connected = true;
            failedAttempts = 0;
            progress = false;
            nextHeartbeatAt = System.nanoTime() + settings.heartbeatNanos();
        } catch (IOException | RuntimeException e) {
            if (tls == null) {
                try {
                    raw.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            failed(e);
        }
    }

    private static boolean isAddress(String name) {
        return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
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
        if (refusedAuth) { // retrying soon would not help: the secret or the sidecar must change first
            refusedAuth = false;
            backoffNanos = settings.backoffMaxNanos();
        }
        long jitter = (long) (backoffNanos * 0.2 * ThreadLocalRandom.current().nextDouble());
        nextConnectAt = System.nanoTime() + backoffNanos - jitter;
        backoffNanos = Math.min(settings.backoffMaxNanos(), backoffNanos * 2);
    }

    private void closeChannel() {
        connected = false;
        answer.setLength(0);
        SSLSocket s = tls;
        tls = null;
        tlsRaw = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing the TLS connection", e);
            }
        }
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
