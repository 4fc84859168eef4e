package io.signalbox.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

import io.signalbox.sdk.internal.Json;
import io.signalbox.sdk.internal.Ring;
import io.signalbox.sdk.internal.Sender;
import io.signalbox.sdk.internal.TraceEnv;

/**
 * The Signalbox SDK for Java: sends monitoring data to the sidecar as line-delimited JSON
 * (wire protocol v1) over one persistent TCP connection.
 *
 * <pre>{@code
 * Monitoring monitoring = Monitoring.builder().source("billing").build();
 * monitoring.setContext("job_id", jobId);                  // the job id becomes the trace id
 * try (Span span = monitoring.startSpan("load")) {
 *     monitoring.logEvent("info", "loading", Map.of("file", name));
 *     monitoring.logMetric("rows_loaded", rows, "count", null);
 * }
 * monitoring.close();                                      // flush, goodbye
 * }</pre>
 *
 * <p><b>Never blocks, never throws because of the network.</b> Every call formats its line on
 * the caller's thread and appends it to a bounded ring ({@link Builder#bufferSize}, default
 * 1,000 messages) without locks; one daemon writer thread batches the lines into socket writes,
 * reconnects with exponential backoff and replays what is held, in order. When the ring is full
 * the new message is dropped and counted ({@link #dropped()}, reported in {@code heartbeat} and
 * {@code goodbye}). {@link #state()} tells CONNECTED, DISCONNECTED or OVERFLOW.
 *
 * <p><b>Trace context.</b> {@code setContext("job_id", …)} makes the job id the trace id. Spans
 * nest per thread: a new span's parent is the innermost open span of the calling thread, and
 * messages logged on that thread carry it as {@code sid}. A process started with
 * {@code SIGNALBOX_TRACE=<tid>:<sid>} (or W3C {@code TRACEPARENT}) in its environment continues
 * that trace; {@link #childEnvironment()} gives those variables for a child process.
 *
 * <p><b>Configuration</b> by builder, else environment ({@code SIGNALBOX_SOURCE},
 * {@code SIGNALBOX_HOST}, {@code SIGNALBOX_PORT}, {@code SIGNALBOX_SOCKET}, {@code SIGNALBOX_SECRET},
 * {@code SIGNALBOX_TLS}, {@code SIGNALBOX_TLS_CA_FILE}, {@code SIGNALBOX_TLS_SERVER_NAME}), else
 * defaults ({@code 127.0.0.1:17000}, no secret, no TLS). A secret is sent in the {@code hello}
 * of every connection ({@code auth} 1, {@code token}); a refusal by the sidecar is logged,
 * counted ({@link #authFailures()}, {@link #lastError()}) and the messages are kept. Thread-safe. Diagnostics go to {@link System.Logger}
 * {@code io.signalbox.sdk}, never per message.
 */
public final class Monitoring implements AutoCloseable {
    private static final Logger LOG = System.getLogger("io.signalbox.sdk");

    public static final String SDK_NAME = "java";
    public static final String SDK_VERSION = "0.2.0"; // 0.2: socketPath, secret, TLS (issue 14)
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 17000;
    public static final int DEFAULT_BUFFER_SIZE = 1000;
    public static final int DEFAULT_MAX_LINE_BYTES = 65_536;

    /** The connection state as the application sees it. */
    public enum State {
        /** Connected: messages flow. */
        CONNECTED,
        /** Not connected: messages are held (up to the buffer size) and replayed on reconnect. */
        DISCONNECTED,
        /** The buffer was full and messages were dropped since it last had room. */
        OVERFLOW
    }

    /** An immutable snapshot of the context set with {@link #setContext}, pre-encoded. */
    private record Context(Map<String, Object> values, String json, String jobTraceId) {
        static final Context EMPTY = new Context(Map.of(), "", null);
    }

    private static final ThreadLocal<StringBuilder> BUFFERS = ThreadLocal.withInitial(() -> new StringBuilder(512));

    private final String source;
    /** {@code {"v":1,"src":"<source>","ts":} */
    private final String prefix;
    private final String secret;
    private final Path socketPath;
    private final boolean tls;
    private final String inheritedTraceId;
    private final String inheritedSpanId;
    private final Ring ring;
    private final Sender sender;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ThreadLocal<Span> current = new ThreadLocal<>();
    private final Thread shutdownHook;
    private volatile boolean closing;
    private volatile Context context = Context.EMPTY;

    private Monitoring(Builder b) {
        Map<String, String> env = b.environment != null ? b.environment : System.getenv();
        this.source = firstNonEmpty(b.source, env.get("SIGNALBOX_SOURCE"), defaultSource());
        String host = firstNonEmpty(b.host, env.get("SIGNALBOX_HOST"), DEFAULT_HOST);
        int port = b.port > 0 ? b.port : portFrom(env.get("SIGNALBOX_PORT"));
        // socketPath, else host/port of the builder (TCP), else SIGNALBOX_SOCKET, else SIGNALBOX_HOST/PORT
        String socket = b.socketPath != null ? b.socketPath.toString()
                : b.host != null || b.port > 0 ? null : firstNonEmpty(env.get("SIGNALBOX_SOCKET"), null, null);
        this.socketPath = socket == null ? null : Path.of(socket);
        // token / SIGNALBOX_TOKEN: SDK 0.1's names for the secret
        this.secret = firstSet(b.secret, b.token, env.get("SIGNALBOX_SECRET"), env.get("SIGNALBOX_TOKEN"));
        String caFile = b.caFile != null ? b.caFile.toString() : firstNonEmpty(env.get("SIGNALBOX_TLS_CA_FILE"), null, null);
        String tlsEnv = env.get("SIGNALBOX_TLS");
        boolean tls = b.tls != null ? b.tls
                : tlsEnv != null ? !tlsEnv.strip().toLowerCase(java.util.Locale.ROOT).matches("|0|false|no|off")
                : caFile != null;
        if (tls && socketPath != null) {
            LOG.log(Level.WARNING, "Signalbox SDK: TLS is for TCP; the Unix domain socket {0} is used without it", socketPath);
            tls = false;
        }
        this.tls = tls;
        String serverName = firstNonEmpty(b.serverName, env.get("SIGNALBOX_TLS_SERVER_NAME"), host);
        TraceEnv.Inherited inherited = TraceEnv.read(env);
        this.inheritedTraceId = inherited.traceId();
        this.inheritedSpanId = inherited.spanId();
        StringBuilder sb = new StringBuilder("{\"v\":1,\"src\":");
        Json.string(sb, source).append(",\"ts\":");
        this.prefix = sb.toString();
        this.ring = new Ring(b.bufferSize);
        Sender.Settings settings = new Sender.Settings(host, port, b.maxLineBytes, b.heartbeat.toNanos(),
                b.backoffMin.toNanos(), Math.max(b.backoffMin.toNanos(), b.backoffMax.toNanos()),
                b.connectTimeout.toMillis(), b.closeTimeout.toNanos(), socketPath,
                tls ? tlsFactory(caFile) : null, serverName, secret != null);
        this.sender = new Sender(ring, settings, new ControlLines(), dropped);
        this.sender.start("signalbox-sdk-writer-" + source);
        if (b.closeOnShutdown) {
            shutdownHook = new Thread(this::close, "signalbox-sdk-shutdown-" + source);
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        } else {
            shutdownHook = null;
        }
    }

    /**
     * Verified TLS: the server certificate must chain to a certificate of {@code caFile} (PEM,
     * one or more) or, without one, to the JVM's default trust store.
     */
    private static SSLSocketFactory tlsFactory(String caFile) {
        if (caFile == null) {
            return (SSLSocketFactory) SSLSocketFactory.getDefault();
        }
        try (InputStream in = Files.newInputStream(Path.of(caFile))) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException("caFile " + caFile + " holds no PEM certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("caFile " + caFile + " cannot be used: " + e, e);
        }
    }

    /** A builder; every setting is optional. */
    public static Builder builder() {
        return new Builder();
    }

    /** The Unix domain socket this instance sends to, or null for TCP. */
    public Path socketPath() {
        return socketPath;
    }

    /** Whether TCP runs TLS. */
    public boolean tls() {
        return tls;
    }

    /** Connections the sidecar refused as {@code unauthorized} (a wrong or missing secret). */
    public long authFailures() {
        return sender.authFailures();
    }

    /** The sidecar's reason for the last refusal ({@code bad_secret}, {@code no_secret}, …), or null. */
    public String lastError() {
        return sender.lastError();
    }

    /** The source ({@code src}) this instance writes as. */
    public String source() {
        return source;
    }

    // ---- the contract -----------------------------------------------------------------------

    /** Logs an event (level such as {@code debug info warn error fatal}, and a message; null: info, empty). */
    public void logEvent(String level, String msg) {
        logEvent(level, msg, null);
    }

    /** Logs an event with extra context ({@code data.ctx}; omitted when null or empty). */
    public void logEvent(String level, String msg, Map<String, ?> ctx) {
        if (closing) {
            return;
        }
        StringBuilder sb = envelope("event");
        sb.append("\"level\":");
        Json.string(sb, level == null ? "info" : level).append(",\"msg\":");
        Json.string(sb, msg == null ? "" : msg);
        if (ctx != null && !ctx.isEmpty()) {
            Json.object(sb.append(",\"ctx\":"), ctx);
        }
        enqueue(sb);
    }

    /** Logs a metric value. */
    public void logMetric(String name, double value) {
        logMetric(name, value, null, null);
    }

    /** Logs a metric value with a unit (omitted when null). */
    public void logMetric(String name, double value, String unit) {
        logMetric(name, value, unit, null);
    }

    /** Logs a metric value with unit and tags (each omitted when null). */
    public void logMetric(String name, double value, String unit, Map<String, ?> tags) {
        if (closing) {
            return;
        }
        StringBuilder sb = metricStart(name);
        Json.number(sb, value);
        metricEnd(sb, unit, tags);
    }

    /** Logs an integral metric value. */
    public void logMetric(String name, long value) {
        logMetric(name, value, null, null);
    }

    /** Logs an integral metric value with unit and tags (each omitted when null). */
    public void logMetric(String name, long value, String unit, Map<String, ?> tags) {
        if (closing) {
            return;
        }
        StringBuilder sb = metricStart(name);
        sb.append(value);
        metricEnd(sb, unit, tags);
    }

    private StringBuilder metricStart(String name) {
        StringBuilder sb = envelope("metric");
        sb.append("\"name\":");
        return Json.string(sb, name).append(",\"value\":");
    }

    private void metricEnd(StringBuilder sb, String unit, Map<String, ?> tags) {
        if (unit != null) {
            Json.string(sb.append(",\"unit\":"), unit);
        }
        if (tags != null && !tags.isEmpty()) {
            Json.object(sb.append(",\"tags\":"), tags);
        }
        enqueue(sb);
    }

    /** Logs the progress of a job: percent done and a status such as {@code running} (omitted when null). */
    public void logProgress(String jobId, double percent, String status) {
        if (closing) {
            return;
        }
        StringBuilder sb = envelope("progress");
        sb.append("\"job_id\":");
        Json.string(sb, jobId).append(",\"percent\":");
        Json.number(sb, percent);
        if (status != null) {
            Json.string(sb.append(",\"status\":"), status);
        }
        enqueue(sb);
    }

    /** Logs resource use (CPU %, memory, disk, network); null values are omitted. */
    public void logResource(Number cpu, Number mem, Number disk, Number net) {
        if (closing) {
            return;
        }
        StringBuilder sb = envelope("resource");
        int mark = sb.length();
        resourceField(sb, mark, "cpu", cpu);
        resourceField(sb, mark, "mem", mem);
        resourceField(sb, mark, "disk", disk);
        resourceField(sb, mark, "net", net);
        enqueue(sb);
    }

    private static void resourceField(StringBuilder sb, int mark, String key, Number value) {
        if (value == null) {
            return;
        }
        if (sb.length() > mark) {
            sb.append(',');
        }
        sb.append('"').append(key).append("\":");
        Json.value(sb, value);
    }

    /**
     * Starts a span; its parent is the innermost open span of this thread (or the span inherited
     * through the environment). Use it with try-with-resources, or end it with {@link Span#end}.
     */
    public Span startSpan(String name) {
        String id = newSpanId();
        if (closing) {
            return new Span(this, id, null, null, name, null, true);
        }
        Span parent = innermost();
        String jobTid = context.jobTraceId();
        String tid;
        if (jobTid != null) {
            tid = jobTid;
        } else if (parent != null) {
            tid = parent.traceId();
        } else if (inheritedTraceId != null) {
            tid = inheritedTraceId;
        } else {
            tid = newTraceId();
        }
        String pid = parent != null ? parent.id() : inheritedSpanId;
        Span span = new Span(this, id, pid, tid, name, parent, false);
        current.set(span);
        return span;
    }

    /**
     * Sets ({@code value} not null) or removes ({@code null}) a context value, sent as {@code ctx}
     * with every message. {@code job_id} is also the trace id ({@code tid}), as its decimal text
     * if it is a number.
     */
    public synchronized void setContext(String key, Object value) {
        if (key == null || closing) {
            return;
        }
        Map<String, Object> values = new LinkedHashMap<>(context.values());
        if (value == null) {
            values.remove(key);
        } else {
            values.put(key, value);
        }
        String json = "";
        if (!values.isEmpty()) {
            StringBuilder sb = new StringBuilder(",\"ctx\":");
            json = Json.object(sb, values).toString();
        }
        Object job = values.get("job_id");
        String jobTid = job == null ? null : job instanceof String ? (String) job : jobText(job);
        context = new Context(Collections.unmodifiableMap(values), json, jobTid == null || jobTid.isEmpty() ? null : jobTid);
    }

    private static String jobText(Object job) {
        if (job instanceof Double || job instanceof Float) {
            double d = ((Number) job).doubleValue();
            return Json.number(new StringBuilder(), d).toString();
        }
        return String.valueOf(job);
    }

    /** The context set so far (unmodifiable). */
    public Map<String, Object> context() {
        return context.values();
    }

    /**
     * The environment variables that make a child process continue this thread's trace:
     * {@code SIGNALBOX_TRACE=<tid>:<sid>} (the innermost open span, else the inherited one) and,
     * when both ids fit W3C, {@code TRACEPARENT}. Empty when there is no trace.
     */
    public Map<String, String> childEnvironment() {
        Span cur = innermost();
        String tid = context.jobTraceId();
        if (tid == null) {
            tid = cur != null ? cur.traceId() : inheritedTraceId;
        }
        String sid = cur != null ? cur.id() : inheritedSpanId;
        return TraceEnv.forChild(tid, sid);
    }

    /** Puts {@link #childEnvironment()} into {@code pb}'s environment (removing stale trace variables); returns pb. */
    public ProcessBuilder propagateTo(ProcessBuilder pb) {
        Map<String, String> env = pb.environment();
        env.remove(TraceEnv.SIGNALBOX_TRACE);
        env.remove(TraceEnv.TRACEPARENT);
        env.putAll(childEnvironment());
        return pb;
    }

    /**
     * Flushes what is held (waiting at most the close timeout, also for a sidecar that is down),
     * sends {@code goodbye} with the counts and closes the connection. Later calls do nothing;
     * calling it again is harmless.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closing = true;
        sender.shutdown();
        if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                LOG.log(Level.DEBUG, "JVM shutting down: hook stays", shuttingDown);
            }
        }
    }

    // ---- state ------------------------------------------------------------------------------

    public State state() {
        if (sender.overflowing()) {
            return State.OVERFLOW;
        }
        return sender.connected() ? State.CONNECTED : State.DISCONNECTED;
    }

    /** Messages written to the sidecar so far (hello, heartbeat and goodbye not counted). */
    public long sent() {
        return sender.sent();
    }

    /** Messages dropped so far (buffer full, too long, or still held when close gave up). */
    public long dropped() {
        return dropped.get();
    }

    /** Messages held in the buffer right now (not yet written). */
    public int buffered() {
        return ring.size();
    }

    // ---- internals --------------------------------------------------------------------------

    void spanEnded(Span span, String status, long startMillis, long durNanos, Map<String, Object> attrs) {
        unwind(span);
        if (closing) {
            return;
        }
        long now = System.currentTimeMillis();
        StringBuilder sb = BUFFERS.get();
        sb.setLength(0);
        sb.append(prefix).append(now).append(",\"type\":\"span\"");
        appendId(sb, "tid", span.traceId());
        appendId(sb, "sid", span.id());
        appendId(sb, "pid", span.parentId());
        sb.append(context.json()).append(",\"data\":{\"name\":");
        Json.string(sb, span.name()).append(",\"status\":");
        Json.string(sb, status).append(",\"start\":").append(startMillis)
                .append(",\"end\":").append(Math.max(now, startMillis)).append(",\"dur_ms\":");
        Json.number(sb, Math.round(durNanos / 1000.0) / 1000.0);
        if (attrs != null && !attrs.isEmpty()) {
            Json.object(sb.append(",\"attrs\":"), attrs);
        }
        enqueue(sb);
    }

    /** The innermost open span of this thread, forgetting spans that have ended. */
    private Span innermost() {
        Span cur = current.get();
        if (cur != null && cur.isEnded()) {
            cur = openAncestor(cur);
            current.set(cur); // set(null), not remove(): the thread's entry is reused by the next span
        }
        return cur;
    }

    private void unwind(Span ended) {
        if (current.get() == ended) {
            current.set(openAncestor(ended));
        }
    }

    private static Span openAncestor(Span s) {
        Span p = s;
        while (p != null && p.isEnded()) {
            p = p.parent;
        }
        return p;
    }

    /** Starts a line: envelope up to and including {@code "data":{}; the caller adds the payload. */
    private StringBuilder envelope(String type) {
        Context ctx = context;
        Span cur = innermost();
        String tid = ctx.jobTraceId();
        if (tid == null) {
            tid = cur != null ? cur.traceId() : inheritedTraceId;
        }
        String sid = cur != null ? cur.id() : inheritedSpanId;
        StringBuilder sb = BUFFERS.get();
        sb.setLength(0);
        sb.append(prefix).append(System.currentTimeMillis()).append(",\"type\":\"").append(type).append('"');
        appendId(sb, "tid", tid);
        appendId(sb, "sid", sid);
        return sb.append(ctx.json()).append(",\"data\":{");
    }

    private static void appendId(StringBuilder sb, String key, String id) {
        if (id != null) {
            sb.append(",\"").append(key).append("\":");
            Json.string(sb, id);
        }
    }

    private void enqueue(StringBuilder sb) {
        String line = sb.append("}}").toString();
        if (sb.capacity() > 64 * 1024) {
            BUFFERS.remove(); // do not keep a huge buffer per thread
        }
        int held = ring.offer(line);
        if (held > 0) {
            sender.wake(held);
        } else {
            dropped.incrementAndGet();
            sender.overflowed();
        }
    }

    private static String newSpanId() {
        long id;
        do {
            id = ThreadLocalRandom.current().nextLong();
        } while (id == 0);
        return hex16(id);
    }

    private static String newTraceId() {
        long hi;
        do {
            hi = ThreadLocalRandom.current().nextLong();
        } while (hi == 0);
        return hex16(hi) + hex16(ThreadLocalRandom.current().nextLong());
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private static String hex16(long v) {
        char[] c = new char[16];
        for (int i = 15; i >= 0; i--) {
            c[i] = HEX[(int) v & 0xF];
            v >>>= 4;
        }
        return new String(c);
    }

    /** The first non-empty value as it is (a secret is not trimmed: the sidecar compares it exactly). */
    private static String firstSet(String... values) {
        for (String v : values) {
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return null;
    }

    private static String firstNonEmpty(String a, String b, String c) {
        if (a != null && !a.isBlank()) {
            return a.strip();
        }
        if (b != null && !b.isBlank()) {
            return b.strip();
        }
        return c;
    }

    private static int portFrom(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_PORT;
        }
        try {
            int p = Integer.parseInt(text.strip());
            if (p > 0 && p < 65536) {
                return p;
            }
        } catch (NumberFormatException e) {
            LOG.log(Level.DEBUG, "SIGNALBOX_PORT", e);
        }
        LOG.log(Level.WARNING, "SIGNALBOX_PORT={0} is not a port; using {1}", text, String.valueOf(DEFAULT_PORT));
        return DEFAULT_PORT;
    }

    /** The main class's simple name (from {@code sun.java.command}), else {@code java}. */
    private static String defaultSource() {
        String cmd = System.getProperty("sun.java.command", "");
        String main = cmd.isBlank() ? "" : cmd.strip().split("\\s+", 2)[0];
        if (main.endsWith(".jar")) {
            int slash = main.lastIndexOf('/');
            main = main.substring(slash + 1, main.length() - 4);
        } else {
            main = main.substring(main.lastIndexOf('.') + 1);
        }
        return main.isEmpty() ? "java" : main;
    }

    /** hello / heartbeat / goodbye: no trace, no context. */
    private final class ControlLines implements Sender.Lines {
        @Override
        public String hello() {
            StringBuilder sb = control("hello").append("\"sdk\":\"" + SDK_NAME + "\",\"version\":\"" + SDK_VERSION + "\"");
            if (secret != null) { // docs/protocol.md, "Authentication", handshake version 1
                Json.string(sb.append(",\"auth\":1,\"token\":"), secret);
            }
            return sb.append("}}").toString();
        }

        @Override
        public String heartbeat(int buffered, long droppedSoFar) {
            return control("heartbeat").append("\"buffered\":").append(buffered)
                    .append(",\"dropped\":").append(droppedSoFar).append("}}").toString();
        }

        @Override
        public String goodbye(long sent, long droppedSoFar) {
            return control("goodbye").append("\"sent\":").append(sent)
                    .append(",\"dropped\":").append(droppedSoFar).append("}}").toString();
        }

        private StringBuilder control(String type) {
            return new StringBuilder(128).append(prefix).append(System.currentTimeMillis())
                    .append(",\"type\":\"").append(type).append("\",\"data\":{");
        }
    }

    /** Builds a {@link Monitoring}; {@link #build()} starts its writer thread (it connects in the background). */
    public static final class Builder {
        private String source;
        private String host;
        private int port;
        private String token;
        private String secret;
        private Path socketPath;
        private Boolean tls;
        private Path caFile;
        private String serverName;
        private int bufferSize = DEFAULT_BUFFER_SIZE;
        private int maxLineBytes = DEFAULT_MAX_LINE_BYTES;
        private Duration heartbeat = Duration.ofSeconds(10);
        private Duration backoffMin = Duration.ofMillis(100);
        private Duration backoffMax = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private Duration closeTimeout = Duration.ofSeconds(2);
        private boolean closeOnShutdown = true;
        private Map<String, String> environment;

        private Builder() {
        }

        /** The source name ({@code src}); default {@code SIGNALBOX_SOURCE}, else the main class's simple name. */
        public Builder source(String source) {
            this.source = source;
            return this;
        }

        /** Sidecar host; default {@code SIGNALBOX_HOST}, else 127.0.0.1. */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Sidecar TCP port; default {@code SIGNALBOX_PORT}, else 17000. */
        public Builder port(int port) {
            this.port = inRange(port, 1, 65535, "port");
            return this;
        }

        /** SDK 0.1's name of {@link #secret} ({@code SIGNALBOX_TOKEN} is read too); {@link #secret} wins. */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /**
         * The shared secret sent in the {@code hello} of every connection ({@code "auth":1,"token":…});
         * default {@code SIGNALBOX_SECRET}, else none. Never logged.
         */
        public Builder secret(String secret) {
            this.secret = secret;
            return this;
        }

        /** Send over this Unix domain socket instead of TCP; default {@code SIGNALBOX_SOCKET} when neither host nor port is set. */
        public Builder socketPath(Path path) {
            this.socketPath = path;
            return this;
        }

        /** TLS on TCP (certificate and name verified); default {@code SIGNALBOX_TLS}, else on when a CA file is given. */
        public Builder tls(boolean on) {
            this.tls = on;
            return this;
        }

        /** PEM file of the CA(s) the sidecar's certificate must chain to (turns TLS on); default {@code SIGNALBOX_TLS_CA_FILE}, else the JVM's trust store. */
        public Builder caFile(Path pem) {
            this.caFile = pem;
            return this;
        }

        /** The name the sidecar's certificate must carry (and SNI); default {@code SIGNALBOX_TLS_SERVER_NAME}, else the host. */
        public Builder serverName(String name) {
            this.serverName = name;
            return this;
        }

        /** Messages held while the sidecar is slow or away; default 1,000. */
        public Builder bufferSize(int messages) {
            this.bufferSize = inRange(messages, 1, Integer.MAX_VALUE, "bufferSize");
            return this;
        }

        /** Longest line sent, newline included (longer messages are dropped and counted); default 65,536. */
        public Builder maxLineBytes(int bytes) {
            this.maxLineBytes = inRange(bytes, 256, Integer.MAX_VALUE, "maxLineBytes");
            return this;
        }

        /** Heartbeat interval while connected; default 10 s. */
        public Builder heartbeatInterval(Duration interval) {
            this.heartbeat = positive(interval, "heartbeatInterval");
            return this;
        }

        /** Reconnect backoff: first retry after {@code min}, doubling up to {@code max}; default 100 ms … 10 s. */
        public Builder reconnectBackoff(Duration min, Duration max) {
            this.backoffMin = positive(min, "reconnectBackoff min");
            this.backoffMax = positive(max, "reconnectBackoff max");
            return this;
        }

        /** How long one connect attempt may take; default 2 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** How long {@link Monitoring#close()} waits to flush (also for a sidecar that is away); default 2 s. */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = Objects.requireNonNull(timeout, "closeTimeout");
            return this;
        }

        /** Whether a JVM shutdown hook (SIGINT, SIGTERM, normal exit) calls close(); default true. */
        public Builder closeOnShutdown(boolean close) {
            this.closeOnShutdown = close;
            return this;
        }

        /** Reads configuration and trace context from this map instead of the process environment. */
        public Builder environment(Map<String, String> env) {
            this.environment = Map.copyOf(env);
            return this;
        }

        public Monitoring build() {
            return new Monitoring(this);
        }

        private static int inRange(int value, int min, int max, String what) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(what + " must be "
                        + (max == Integer.MAX_VALUE ? "at least " + min : min + ".." + max) + ": " + value);
            }
            return value;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }
    }
}
