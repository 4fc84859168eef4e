package io.signalbox.http.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.RouteInfo;
import io.signalbox.api.Router;
import io.signalbox.api.StatsSource;
import jakarta.servlet.Servlet;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/backends}, {@code GET /api/routes} (the routing table in force, with where each
 * route came from) and {@code GET /api/sources} (per-source series of every {@code StatsSource}).
 */
@Component(name = ApiServlet.NAME, service = Servlet.class)
@HttpWhiteboardServletPattern({ ApiServlet.BACKENDS, ApiServlet.ROUTES, ApiServlet.SOURCES })
public final class ApiServlet extends HttpServlet {
    /** Component name (stable; the servlet has no configuration of its own). */
    public static final String NAME = "io.signalbox.http.api";
    static final String BACKENDS = "/api/backends";
    static final String ROUTES = "/api/routes";
    static final String SOURCES = "/api/sources";
    /** Per-source series published under a short name; every other series keeps its name minus {@code signalbox_}. */
    static final Map<String, String> SOURCE_FIELDS = Map.of(
            "signalbox_messages_received_total", "received_total",
            "signalbox_buffer_size", "buffered");

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ApiServlet.class);

    private final transient RateLimitedLog errors = new RateLimitedLog(LOG);
    private final transient Map<StatsSource, Boolean> statsSources = new ConcurrentHashMap<>();
    private transient volatile Router router;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindRouter(Router r) {
        router = r;
    }

    void unbindRouter(Router r) {
        if (router == r) {
            router = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStatsSource(StatsSource source) {
        statsSources.put(source, Boolean.TRUE);
    }

    void unbindStatsSource(StatsSource source) {
        statsSources.remove(source);
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        String method = req.getMethod();
        if ("GET".equals(method) || "HEAD".equals(method)) {
            super.service(req, resp); // HEAD: HttpServlet runs doGet without the body
        } else {
            methodNotAllowed(resp, "GET, HEAD");
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getServletPath();
        if (SOURCES.equals(path)) {
            send(resp, HttpServletResponse.SC_OK, sources());
            return;
        }
        Router r = router;
        if (r == null) {
            send(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE, ApiJson.error("the router is not running"));
        } else if (BACKENDS.equals(path)) {
            send(resp, HttpServletResponse.SC_OK, backends(r.backends()));
        } else if (ROUTES.equals(path)) {
            send(resp, HttpServletResponse.SC_OK, routes(r.routes()));
        } else {
            send(resp, HttpServletResponse.SC_NOT_FOUND, ApiJson.error("no such resource: " + path));
        }
    }

    static byte[] backends(List<BackendStatus> backends) {
        return ApiJson.render(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("backends");
            for (BackendStatus b : backends) {
                ApiJson.backend(g, b);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    static byte[] routes(List<RouteInfo> routes) {
        return ApiJson.render(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("routes");
            for (RouteInfo r : routes) {
                g.writeStartObject();
                g.writeStringField("name", r.name());
                g.writeStringField("source", r.source());
                g.writeArrayFieldStart("backends");
                for (String b : r.backends()) {
                    g.writeString(b);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("types");
                for (String t : new java.util.TreeSet<>(r.types())) {
                    g.writeString(t);
                }
                g.writeEndArray();
                g.writeBooleanField("enabled", r.enabled());
                g.writeNumberField("priority", r.priority());
                g.writeBooleanField("global", r.global());
                g.writeStringField("origin", r.origin());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /**
     * {@code {"sources":[{"name","received_total","buffered",…}]}}: every series whose only label
     * is {@code source}, from every StatsSource, by source name.
     */
    byte[] sources() {
        Map<String, Map<String, Number>> bySource = new TreeMap<>();
        for (StatsSource s : statsSources.keySet()) {
            Map<String, Number> stats;
            try {
                stats = s.stats();
            } catch (RuntimeException e) {
                errors.warn("stats", "A StatsSource failed while /api/sources read it: {}", e.toString(), e);
                continue;
            }
            if (stats == null) {
                continue;
            }
            for (Map.Entry<String, Number> e : stats.entrySet()) {
                String key = e.getKey();
                if (e.getValue() == null || !key.contains("source=")) {
                    continue; // cheap pre-filter: most series have no source label
                }
                ApiSeries series = ApiSeries.parse(key);
                if (series == null || series.labels().size() != 1) {
                    continue;
                }
                String source = series.labels().get("source");
                if (source == null) {
                    continue;
                }
                String field = SOURCE_FIELDS.get(series.name());
                if (field == null) {
                    field = series.name().startsWith("signalbox_") ? series.name().substring(10) : series.name();
                }
                bySource.computeIfAbsent(source, k -> newSource()).put(field, e.getValue());
            }
        }
        List<Map.Entry<String, Map<String, Number>>> entries = new ArrayList<>(bySource.entrySet());
        return ApiJson.render(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("sources");
            for (Map.Entry<String, Map<String, Number>> e : entries) {
                g.writeStartObject();
                g.writeStringField("name", e.getKey());
                for (Map.Entry<String, Number> f : e.getValue().entrySet()) {
                    g.writeFieldName(f.getKey());
                    ApiJson.number(g, f.getValue());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static Map<String, Number> newSource() {
        Map<String, Number> fields = new LinkedHashMap<>();
        fields.put("received_total", 0L);
        fields.put("buffered", 0L);
        return fields;
    }

    /** Writes a JSON answer with its length. */
    static void send(HttpServletResponse resp, int status, byte[] body) throws IOException {
        resp.setStatus(status);
        resp.setContentType(ApiJson.CONTENT_TYPE);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** 405 with {@code Allow} and a JSON error. */
    static void methodNotAllowed(HttpServletResponse resp, String allow) throws IOException {
        resp.setHeader("Allow", allow);
        send(resp, HttpServletResponse.SC_METHOD_NOT_ALLOWED, ApiJson.error("method not allowed; allowed: " + allow));
    }
}
