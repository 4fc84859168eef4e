package io.signalbox.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonGenerator;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.DropReason;
import io.signalbox.api.Ingest;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.LineIngest;
import io.signalbox.protocol.RejectCounters;
import jakarta.servlet.Servlet;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * HTTP ingest for clients that cannot hold a TCP connection: {@code POST /v1/event} (one JSON
 * object) and {@code POST /v1/events/batch} (a JSON array, or LDJSON: one object per line).
 *
 * <p>Every message goes through the protocol's {@link LineDecoder}, the validation TCP uses, and
 * rejects are counted per reason in {@code signalbox_messages_dropped_total{reason}} and logged
 * rate-limited by {@link RejectCounters}, like TCP's. Answers:
 * <ul>
 * <li>202 {@code {"accepted":N,"rejected":M,"errors":[{"index":i,"reason":"…","detail":"…"}]}}
 * when at least one message was accepted (the others are listed, at most
 * {@value #MAX_ERRORS_LISTED});</li>
 * <li>400, same body, when none was (also for an empty body or a broken JSON array, in which case
 * nothing of the body is offered);</li>
 * <li>413 when the body is longer than {@code ingest.max.bytes} (never buffered beyond it);</li>
 * <li>503 with {@code Retry-After: 1} when the pipeline is full ({@link Ingest#isWritable()} is
 * false) or not running;</li>
 * <li>405 for any method but POST.</li>
 * </ul>
 * A message longer than {@value #MAX_MESSAGE_BYTES} bytes (the protocol's default line limit)
 * is rejected as {@code too_long}.
 */
@Component(name = IngestServlet.NAME, configurationPid = IngestServlet.CONFIG_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = { Servlet.class, StatsSource.class })
@HttpWhiteboardServletPattern({ IngestServlet.EVENT, IngestServlet.BATCH })
public final class IngestServlet extends HttpServlet implements StatsSource {
    /** Component name (stable). */
    public static final String NAME = "io.signalbox.http.ingest";
    /** It reads {@code ingest.max.bytes} from the HTTP server's configuration. */
    static final String CONFIG_PID = HttpServerComponent.PID;
    static final String EVENT = "/v1/event";
    static final String BATCH = "/v1/events/batch";
    /** The protocol's default maximum line length (DESIGN.md §2). */
    static final int MAX_MESSAGE_BYTES = 65536;
    /** Errors listed in one answer; the {@code rejected} count is always complete. */
    static final int MAX_ERRORS_LISTED = 100;
    /** Like the TCP transport's: messages decoded and offered to the pipeline, per transport (here {@code http}). */
    static final String RECEIVED = "signalbox_transport_messages_received_total";
    /** Answers by status ({@code status} label). */
    static final String REQUESTS = "signalbox_http_ingest_requests_total";

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IngestServlet.class);
    private static final int[] STATUSES = { 202, 400, 405, 413, 503 };

    private final transient LineDecoder decoder = new LineDecoder();
    private final transient RejectCounters rejects = new RejectCounters();
    private final transient RateLimitedLog errorLog = new RateLimitedLog(LOG);
    private final transient LongAdder received = new LongAdder();
    private final transient LongAdder[] answered = new LongAdder[STATUSES.length];
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    transient volatile Ingest ingest;
    private transient volatile long maxBytes;

    /**
     * Reads {@code ingest.max.bytes} of the HTTP server's configuration (PID
     * {@value HttpServerComponent#PID}), which {@link HttpServerComponent} owns: it validates it
     * with the same {@link HttpServerComponent.Settings}, and it alone logs and counts a rejection.
     * A configuration it rejects does not start this servlet either.
     */
    @Activate
    public IngestServlet(HttpServerComponent.Config config, Map<String, Object> properties) {
        for (int i = 0; i < answered.length; i++) {
            answered[i] = new LongAdder();
        }
        maxBytes = HttpServerComponent.Settings.of(config, LiveSettings.configured(properties)).ingestMaxBytes();
        LOG.info("HTTP ingest accepts request bodies up to {} bytes", maxBytes);
    }

    /**
     * A new {@code ingest.max.bytes} applies to the next request. A configuration that
     * {@link HttpServerComponent} rejects (it logs why at ERROR and counts it) changes nothing here
     * either: the limit in force stays.
     */
    @Modified
    void modified(HttpServerComponent.Config config, Map<String, Object> properties) {
        long max;
        try {
            max = HttpServerComponent.Settings.of(config, LiveSettings.configured(properties)).ingestMaxBytes();
        } catch (ConfigCheck.Rejected e) {
            LOG.warn("HTTP ingest keeps ingest.max.bytes={}: the configuration {} is rejected", maxBytes,
                    HttpServerComponent.PID);
            return;
        }
        if (max != maxBytes) {
            LOG.info("HTTP ingest accepts request bodies up to {} bytes", max);
        }
        maxBytes = max;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        if (!"POST".equals(req.getMethod())) {
            count(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
            ApiJson.methodNotAllowed(resp, "POST");
            return;
        }
        Ingest in = ingest;
        if (in == null || !in.isWritable()) {
            count(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            resp.setHeader("Retry-After", "1");
            ApiJson.sendError(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE,
                    in == null ? "the pipeline is not running" : "the pipeline is full; retry later");
            return;
        }
        long max = maxBytes;
        long declared = req.getContentLengthLong();
        byte[] body = declared > max ? null : read(req.getInputStream(), declared, (int) max);
        if (body == null) {
            count(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE);
            resp.setHeader("Connection", "close"); // the rest of the body is not read
            ApiJson.sendError(resp, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
                    "request body larger than ingest.max.bytes=" + max);
            return;
        }
        Outcome outcome = ingest(in, body, BATCH.equals(req.getServletPath()), new Origin(req));
        int status = outcome.accepted > 0 ? HttpServletResponse.SC_ACCEPTED : HttpServletResponse.SC_BAD_REQUEST;
        count(status);
        ApiJson.send(resp, status, outcome.json());
    }

    /**
     * Reads the body, never more than {@code max} bytes.
     *
     * @param declared the Content-Length, or -1 when unknown (chunked)
     * @return exactly the body, or {@code null} if it is longer than {@code max}
     */
    static byte[] read(InputStream in, long declared, int max) throws IOException {
        if (declared >= 0) {
            byte[] body = in.readNBytes((int) declared);
            return body.length < declared || in.read() < 0 ? body : null;
        }
        byte[] buf = new byte[Math.min(max, 8192)];
        int n = 0;
        while (true) {
            if (n == buf.length) {
                if (n == max) {
                    return in.read() < 0 ? buf : null;
                }
                buf = java.util.Arrays.copyOf(buf, (int) Math.min(max, 2L * n));
            }
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                return n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
            }
            n += r;
        }
    }

    /** Validates and offers every message of {@code body}. */
    Outcome ingest(Ingest in, byte[] body, boolean batch, Object origin) {
        Outcome out = new Outcome();
        int len = body.length;
        if (IngestBody.isBlank(body, len)) {
            out.error(0, "empty", "the request body holds no message");
            return out;
        }
        IngestBody parts = !batch ? IngestBody.single(body, len)
                : IngestBody.isArray(body, len) ? IngestBody.array(body, len) : IngestBody.lines(body, len);
        if (parts.structureError() != null) {
            rejects.record(DropReason.MALFORMED, parts.structureError(), origin);
            out.rejected(parts.structureErrorIndex(), DropReason.MALFORMED.label(), parts.structureError());
            return out;
        }
        for (int i = 0; i < parts.count(); i++) {
            int off = parts.offset(i);
            int n = parts.length(i);
            if ((parts.flags(i) & IngestBody.HAS_LINE_BREAK) != 0) {
                n = IngestBody.compact(body, off, n);
            }
            if (IngestBody.trimmedLength(body, off, n) > MAX_MESSAGE_BYTES) {
                String detail = "message longer than " + MAX_MESSAGE_BYTES + " bytes";
                rejects.record(DropReason.TOO_LONG, detail, origin);
                out.rejected(i, DropReason.TOO_LONG.label(), detail);
                continue;
            }
            DecodeResult r;
            try {
                r = decoder.decode(body, off, n);
            } catch (RuntimeException e) { // a decoder bug costs this message, never the request
                errorLog.error("decode", "Decoding a message from {} failed", origin, e);
                rejects.record(DropReason.MALFORMED, "the decoder failed on the message", origin);
                out.rejected(i, DropReason.MALFORMED.label(), "the decoder failed on the message");
                continue;
            }
            Message m = r.message();
            if (m != null && LineIngest.carriesToken(m)) {
                out.accepted++; // a hello with a credential: taken, never stored (docs/protocol.md)
            } else if (m != null) {
                try {
                    in.offer(m); // false = above the high-water mark: the rest of this bounded body still goes in
                    out.accepted++;
                } catch (RuntimeException e) {
                    errorLog.error("offer", "Ingest failed on a message from {}", origin, e);
                    out.rejected(i, "ingest_failed", "the pipeline failed on this message");
                }
            } else if (r.isRejected()) {
                rejects.record(r.reason(), r.detail(), origin);
                out.rejected(i, r.reason().label(), r.detail());
            }
        }
        received.add(out.accepted);
        return out;
    }

    private void count(int status) {
        for (int i = 0; i < STATUSES.length; i++) {
            if (STATUSES[i] == status) {
                answered[i].increment();
                return;
            }
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        sink.counter(RECEIVED, received.sum(), "transport", "http");
        rejects.collect(sink);
        for (int i = 0; i < STATUSES.length; i++) {
            sink.counter(REQUESTS, answered[i].sum(), "status", Integer.toString(STATUSES[i]));
        }
    }

    /** The counts and listed errors of one request. */
    static final class Outcome {
        int accepted;
        int rejected;
        final List<Problem> errors = new ArrayList<>();

        void rejected(int index, String reason, String detail) {
            rejected++;
            error(index, reason, detail);
        }

        void error(int index, String reason, String detail) {
            if (errors.size() < MAX_ERRORS_LISTED) {
                errors.add(new Problem(index, reason, detail));
            }
        }

        byte[] json() {
            return ApiJson.render(g -> {
                g.writeStartObject();
                g.writeNumberField("accepted", accepted);
                g.writeNumberField("rejected", rejected);
                ApiJson.array(g, "errors", errors, Problem::write);
                g.writeEndObject();
            });
        }
    }

    /** One listed error: the message's index in the body (blank lines not counted), why, and the decoder's detail. */
    record Problem(int index, String reason, String detail) {
        /** {@code {"index","reason","detail"}}. */
        static void write(JsonGenerator g, Problem p) throws IOException {
            g.writeStartObject();
            g.writeNumberField("index", p.index());
            g.writeStringField("reason", p.reason());
            g.writeStringField("detail", p.detail());
            g.writeEndObject();
        }
    }

    /** Names the client in a rate-limited log line; the text is built only if the line is logged. */
    private static final class Origin {
        private final String address;
        private final int port;
        private final String path;

        Origin(HttpServletRequest req) {
            this.address = req.getRemoteAddr();
            this.port = req.getRemotePort();
            this.path = req.getServletPath();
        }

        @Override
        public String toString() {
            return "HTTP client " + address + ":" + port + " (" + path + ")";
        }
    }
}
