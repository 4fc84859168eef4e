package io.signalbox.http.internal;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;
import io.signalbox.api.TraceSummary;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/traces/{id}}: one correlated trace as a tree (spans with children, durations,
 * the events and metrics of each span, a per-source summary); {@code GET
 * /api/traces?source=&since=&limit=}: the most recently updated traces, newest first.
 *
 * <p>Both read the {@link TraceStore} (correlation); without it they answer 503.
 */
@Component(name = TraceServlet.PID, configurationPid = TraceServlet.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = Servlet.class)
@Designate(ocd = TraceServlet.Config.class)
@HttpWhiteboardServletPattern({ TraceServlet.LIST, TraceServlet.ONE })
public final class TraceServlet extends HttpServlet {
    /** Configuration PID (stable). */
    public static final String PID = "io.signalbox.http.traces";
    static final String LIST = "/api/traces";
    static final String ONE = "/api/traces/*";

    @ObjectClassDefinition(id = PID, name = "Signalbox HTTP trace API",
            description = "GET /api/traces/{id} and GET /api/traces?source=&since=&limit=.")
    public @interface Config {
        @AttributeDefinition(description = "Traces listed when the request names no limit.")
        int list_default_limit() default 50;

        @AttributeDefinition(description = "Largest limit a request may ask for.")
        int list_max_limit() default 1000;
    }

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TraceServlet.class);

    private final transient RateLimitedLog problems = new RateLimitedLog(LOG);
    private transient volatile TraceStore store;
    private transient volatile Config config;

    /** Rejects (ERROR, does not start) a configuration with unknown keys, wrong types or values out of range. */
    @Activate
    public TraceServlet(Config config, Map<String, Object> properties) {
        String problem = problems(config, properties);
        if (problem != null) {
            String message = ConfigCheck.rejection(PID, properties, problem);
            LOG.error("{}", message);
            throw new ConfigCheck.Rejected(message);
        }
        this.config = config;
        LOG.info("Trace API on {} and {}: {}", LIST, ONE, describe(config));
    }

    /** Applies a changed configuration, or logs why it is rejected and keeps the one in force. */
    @Modified
    void modified(Config c, Map<String, Object> properties) {
        String problem = problems(c, properties);
        if (problem != null) {
            LOG.error("{}; the previous configuration stays in force ({})",
                    ConfigCheck.rejection(PID, properties, problem), describe(config));
            return;
        }
        this.config = c;
        LOG.info("Trace API reconfigured: {}", describe(c));
    }

    /** Everything wrong with a configuration, or {@code null}. */
    static String problems(Config c, Map<String, ?> properties) {
        String keys = ConfigCheck.keysAndTypes(Config.class, c, TraceServletJson.ownKeys(properties));
        if (keys != null) {
            return keys;
        }
        List<String> out = new ArrayList<>();
        if (c.list_default_limit() < 1) {
            out.add("list.default.limit must be >= 1, is " + c.list_default_limit());
        }
        if (c.list_max_limit() < 1) {
            out.add("list.max.limit must be >= 1, is " + c.list_max_limit());
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }

    private static String describe(Config c) {
        return "list.default.limit=" + c.list_default_limit() + ", list.max.limit=" + c.list_max_limit();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindTraceStore(TraceStore s) {
        store = s;
    }

    void unbindTraceStore(TraceStore s) {
        if (store == s) {
            store = null;
        }
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String method = req.getMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            resp.setHeader("Allow", "GET, HEAD");
            send(resp, HttpServletResponse.SC_METHOD_NOT_ALLOWED,
                    TraceServletJson.error("method not allowed; allowed: GET, HEAD"), method);
            return;
        }
        TraceStore s = store;
        if (s == null) {
            send(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE,
                    TraceServletJson.error("the trace store (correlation) is not running"), method);
            return;
        }
        String id = traceId(req);
        byte[] body;
        int status = HttpServletResponse.SC_OK;
        try {
            if (id == null) {
                body = list(s, req);
            } else {
                Optional<Trace> trace = s.trace(id);
                if (trace.isPresent()) {
                    body = TraceServletJson.trace(trace.get());
                } else {
                    status = HttpServletResponse.SC_NOT_FOUND;
                    body = TraceServletJson.error("no trace " + id + " (unknown, or evicted from the trace store)");
                }
            }
        } catch (BadRequest e) {
            status = HttpServletResponse.SC_BAD_REQUEST;
            body = TraceServletJson.error(e.getMessage());
        } catch (RuntimeException e) {
            problems.error("query", "Trace API request {} failed", req.getRequestURI(), e);
            status = HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
            body = TraceServletJson.error("internal error: " + e);
        }
        send(resp, status, body, method);
    }

    /** The id of {@code /api/traces/{id}} (decoded; may contain {@code /}), or {@code null} for the list. */
    static String traceId(HttpServletRequest req) {
        String info = req.getPathInfo();
        if (info == null || info.length() <= 1) {
            return null;
        }
        return info.substring(1);
    }

    private byte[] list(TraceStore s, HttpServletRequest req) {
        Config c = config;
        String source = emptyToNull(req.getParameter("source"));
        long since = since(req.getParameter("since"));
        int limit = limit(req.getParameter("limit"), c);
        List<TraceSummary> recent = s.recent(source == null && since == Long.MIN_VALUE ? limit : Integer.MAX_VALUE);
        List<TraceSummary> out = new ArrayList<>(Math.min(limit, recent.size()));
        for (TraceSummary t : recent) {
            if (out.size() >= limit) {
                break;
            }
            if (t.lastSeen() < since || (source != null && !t.sources().contains(source))) {
                continue;
            }
            out.add(t);
        }
        return TraceServletJson.list(out);
    }

    /** {@code since}: epoch milliseconds or ISO-8601 ({@code 2026-11-23T14:00:00Z}, with an offset, or a date). */
    static long since(String value) {
        String v = emptyToNull(value);
        if (v == null) {
            return Long.MIN_VALUE;
        }
        if (v.chars().allMatch(Character::isDigit) && v.length() <= 18) {
            return Long.parseLong(v);
        }
        try {
            return Instant.parse(v).toEpochMilli();
        } catch (DateTimeException notInstant) {
            try {
                return OffsetDateTime.parse(v).toInstant().toEpochMilli();
            } catch (DateTimeException notOffset) {
                try {
                    return java.time.LocalDate.parse(v, DateTimeFormatter.ISO_LOCAL_DATE)
                            .atStartOfDay(java.time.ZoneOffset.UTC).toInstant().toEpochMilli();
                } catch (DateTimeException notDate) {
                    throw new BadRequest("since must be epoch milliseconds or ISO-8601 (e.g. 2026-11-23T14:00:00Z), is '"
                            + v + "'");
                }
            }
        }
    }

    static int limit(String value, Config c) {
        String v = emptyToNull(value);
        if (v == null) {
            return Math.min(c.list_default_limit(), c.list_max_limit());
        }
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadRequest("limit must be a whole number from 1 to " + c.list_max_limit() + ", is '" + v + "'");
        }
        if (n < 1 || n > c.list_max_limit()) {
            throw new BadRequest("limit must be a whole number from 1 to " + c.list_max_limit() + ", is " + n);
        }
        return n;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static void send(HttpServletResponse resp, int status, byte[] body, String method) throws IOException {
        resp.setStatus(status);
        resp.setContentType(TraceServletJson.CONTENT_TYPE);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(body.length);
        if (!"HEAD".equals(method)) {
            resp.getOutputStream().write(body);
        }
    }

    /** A request the client got wrong: 400 with this message. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
