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
import io.signalbox.api.ConfigValues;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;
import io.signalbox.api.TraceSummary;
import jakarta.servlet.Servlet;
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
public final class TraceServlet extends ReadOnlyServlet {
    /** Configuration PID (stable). */
    public static final String PID = "io.signalbox.http.traces";
    static final String LIST = "/api/traces";
    static final String ONE = "/api/traces/*";

    @ObjectClassDefinition(id = PID, name = "Signalbox HTTP trace API", description = "GET /api/traces/{id} and GET /api/traces?source=&since=&limit=.")
    public @interface Config {
        @AttributeDefinition(description = "Traces listed when the request names no limit.") int list_default_limit() default 50;
        @AttributeDefinition(description = "Largest limit a request may ask for.") int list_max_limit() default 1000;
    }

    /**
     * The settings in force, validated once.
     *
     * @param defaultLimit traces listed when the request names no limit
     * @param maxLimit     the largest limit a request may ask for
     */
    record Settings(int defaultLimit, int maxLimit) {
        /** @throws ConfigCheck.Rejected naming every problem of the configuration */
        static Settings of(Config c, Map<String, ?> properties) {
            ConfigValues v = ConfigValues.of(Config.class, c, LiveSettings.configured(properties));
            int defaultLimit = v.atLeast("list.default.limit", c.list_default_limit(), 1);
            int maxLimit = v.atLeast("list.max.limit", c.list_max_limit(), 1);
            v.done();
            return new Settings(defaultLimit, maxLimit);
        }

        @Override
        public String toString() {
            return "list.default.limit=" + defaultLimit + ", list.max.limit=" + maxLimit;
        }
    }

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TraceServlet.class);

    private final transient RateLimitedLog problems = new RateLimitedLog(LOG);
    private final transient LiveSettings<Settings> settings;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    transient volatile TraceStore store;

    /** Rejects (ERROR, counted, does not start) a configuration with unknown keys, wrong types or values out of range. */
    @Activate
    public TraceServlet(Config config, Map<String, Object> properties) {
        settings = LiveSettings.activate(LOG, PID, "Trace API on " + LIST + " and " + ONE, properties,
                () -> Settings.of(config, properties));
    }

    /** Applies a changed configuration, or logs why it is rejected and keeps the one in force. */
    @Modified
    void modified(Config c, Map<String, Object> properties) {
        settings.modify(properties, () -> Settings.of(c, properties));
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        TraceStore s = store;
        if (s == null) {
            ApiJson.sendError(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE,
                    "the trace store (correlation) is not running");
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
                    body = ApiJson.error("no trace " + id + " (unknown, or evicted from the trace store)");
                }
            }
        } catch (BadRequest e) {
            status = HttpServletResponse.SC_BAD_REQUEST;
            body = ApiJson.error(e.getMessage());
        } catch (RuntimeException e) {
            problems.error("query", "Trace API request {} failed", req.getRequestURI(), e);
            status = HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
            body = ApiJson.error("internal error: " + e);
        }
        ApiJson.send(resp, status, body);
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
        Settings c = settings.get();
        String source = parameter(req, "source");
        long since = since(parameter(req, "since"));
        int limit = limit(parameter(req, "limit"), c);
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
        return ApiJson.document("traces", out, TraceServletJson::summary);
    }

    /** {@code since}: epoch milliseconds or ISO-8601 ({@code 2026-11-23T14:00:00Z}, with an offset, or a date). */
    static long since(String value) {
        String v = value;
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

    static int limit(String value, Settings c) {
        String v = value;
        if (v == null) {
            return Math.min(c.defaultLimit(), c.maxLimit());
        }
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadRequest("limit must be a whole number from 1 to " + c.maxLimit() + ", is '" + v + "'");
        }
        if (n < 1 || n > c.maxLimit()) {
            throw new BadRequest("limit must be a whole number from 1 to " + c.maxLimit() + ", is " + n);
        }
        return n;
    }

    /** A request the client got wrong: 400 with this message. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }
}
