package io.signalbox.protocol;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Ingest;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/**
 * What every stream transport (TCP, Unix domain sockets) does with the bytes of a connection:
 * framing ({@link LineFramer}), the {@code hello} authentication when secrets are configured,
 * decoding ({@link LineDecoder}), counting rejects ({@link RejectCounters}) and offering messages
 * to {@link Ingest}. One per transport; {@link #open} makes the per-connection {@link LineSession}.
 * Thread-safe; the sessions are not (one reader each).
 */
public final class LineIngest implements StatsSource {
    private static final Logger LOG = LoggerFactory.getLogger(LineIngest.class);

    final String transport;
    final Ingest ingest;
    final LineDecoder decoder;
    final RejectCounters rejects;
    final AuthStats auth;
    final LongAdder received = new LongAdder();
    private final LongAdder decoderFailures = new LongAdder();
    private final LogLimiter errorLog = new LogLimiter();
    private volatile SharedSecrets secrets = SharedSecrets.NONE;
    /** The sidecar's HTTP address ({@code http://127.0.0.1:17001/}), {@code null} while unknown. */
    private volatile String httpEndpoint;
    private final LongAdder httpRequests = new LongAdder();

    public LineIngest(String transport, Ingest ingest, LineDecoder decoder, RejectCounters rejects) {
        this.transport = transport;
        this.ingest = ingest;
        this.decoder = decoder;
        this.rejects = rejects;
        this.auth = new AuthStats(transport);
    }

    /** The secrets connections opened from now on must present ({@link SharedSecrets#NONE}: none). */
    public void secrets(SharedSecrets s) {
        this.secrets = s;
    }

    public SharedSecrets secrets() {
        return secrets;
    }

    /**
     * The sidecar's HTTP address, e.g. {@code http://127.0.0.1:17001/} ({@code null}: unknown): an
     * HTTP request sent to this transport by mistake is redirected there (design document 003 puts
     * its HTTP sidecar on 17000, Signalbox's TCP port).
     */
    public void httpEndpoint(String endpoint) {
        this.httpEndpoint = endpoint;
    }

    /**
     * The answer to an HTTP request line ({@code GET /v1/health HTTP/1.1}) as the first line of a
     * connection: 307 to the same path on the HTTP address, or 400 saying what this port is when that
     * address is unknown. Counted in {@code signalbox_transport_http_requests_total}.
     */
    byte[] httpAnswer(String method, String path) {
        httpRequests.increment();
        String endpoint = httpEndpoint;
        String what = "This is Signalbox's " + transport + " ingest: line-delimited JSON, protocol v1 (docs/protocol.md).";
        StringBuilder head = new StringBuilder();
        String body;
        if (endpoint != null) {
            String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
            String location = base + path;
            body = what + " HTTP is served at " + base + "/ - redirecting " + method + " " + path + " there.\n";
            head.append("HTTP/1.1 307 Temporary Redirect\r\nLocation: ").append(location).append("\r\n");
        } else {
            body = what + " Send HTTP to the sidecar's HTTP port (etc/io.signalbox.http.cfg, default 17001).\n";
            head.append("HTTP/1.1 400 Bad Request\r\n");
        }
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        head.append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: ").append(b.length)
                .append("\r\nConnection: close\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] out = java.util.Arrays.copyOf(h, h.length + b.length);
        System.arraycopy(b, 0, out, h.length, b.length);
        return out;
    }

    /** A connection from {@code peer} (shown in logs), framed with {@code maxLineLength}. */
    public LineSession open(Object peer, int maxLineLength) {
        return new LineSession(this, peer, new LineFramer(maxLineLength), secrets);
    }

    public Ingest ingest() {
        return ingest;
    }

    public RejectCounters rejects() {
        return rejects;
    }

    public AuthStats auth() {
        return auth;
    }

    /** Messages delivered to {@link Ingest} so far. */
    public long received() {
        return received.sum();
    }

    /**
     * Whether {@code m} is a {@code hello} carrying a {@code data.token}: a credential, consumed by the
     * transports and never stored or routed (with or without authentication configured).
     */
    public static boolean carriesToken(Message m) {
        if (m.type() != io.signalbox.api.MessageType.HELLO) {
            return false;
        }
        byte[] line = m.line();
        return Hello.parse(line, 0, line.length).token() != null;
    }

    /** A line the decoder threw on: dropped as malformed and logged (ERROR, rate-limited) with the exception. */
    void decoderFailed(Object peer, RuntimeException e) {
        decoderFailures.increment();
        rejects.record(io.signalbox.api.DropReason.MALFORMED, "the decoder failed on the line (" + e + ")", peer);
        long suppressed = errorLog.acquire();
        if (suppressed >= 0) {
            LOG.error("Decoding a line from {} failed; the line is dropped ({} more suppressed)", peer, suppressed, e);
        }
    }

    /** Lines the decoder threw on (a bug; the fuzz tests require 0). */
    public long decoderFailures() {
        return decoderFailures.sum();
    }

    void ingestFailed(Object peer, RuntimeException e) {
        long suppressed = errorLog.acquire();
        if (suppressed >= 0) {
            LOG.error("Ingest failed on a message from {} ({} more suppressed)", peer, suppressed, e);
        }
    }

    /**
     * The one line a connection gets before it is closed (docs/protocol.md, "Errors"):
     * {@code {"error":"<error>","reason":"<reason>","detail":"<detail>"}} and {@code '\n'}.
     */
    public static byte[] errorLine(String error, String reason, String detail) {
        return ("{\"error\":" + quote(error) + ",\"reason\":" + quote(reason) + ",\"detail\":"
                + quote(detail) + "}\n").getBytes(StandardCharsets.UTF_8);
    }

    /** {@code s} as a JSON string; control characters escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** {@code signalbox_transport_messages_received_total{transport}} and the authentication failures. */
    @Override
    public void collect(MetricsSink sink) {
        sink.counter("signalbox_transport_messages_received_total", received.sum(), "transport", transport);
        sink.counter("signalbox_transport_http_requests_total", httpRequests.sum(), "transport", transport);
        auth.collect(sink);
    }
}
