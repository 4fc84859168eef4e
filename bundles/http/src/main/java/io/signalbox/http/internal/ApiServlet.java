package io.signalbox.http.internal;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.core.JsonGenerator;

import io.signalbox.api.MetricSamples;
import io.signalbox.api.RouteInfo;
import io.signalbox.api.Router;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/backends}, {@code GET /api/routes} (the routing table in force, with where each
 * route came from) and {@code GET /api/sources} (per-source series of every {@code StatsSource}).
 */
@Component(name = ApiServlet.NAME, service = Servlet.class)
@HttpWhiteboardServletPattern({ ApiServlet.BACKENDS, ApiServlet.ROUTES, ApiServlet.SOURCES })
public final class ApiServlet extends ReadOnlyServlet {
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

    private final transient SidecarServices services;

    @Activate
    public ApiServlet(@Reference(name = "services") SidecarServices services) {
        this.services = services;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getServletPath();
        if (SOURCES.equals(path)) {
            ApiJson.send(resp, HttpServletResponse.SC_OK, sources());
            return;
        }
        Router r = services.router;
        if (r == null) {
            ApiJson.sendError(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "the router is not running");
        } else if (BACKENDS.equals(path)) {
            ApiJson.send(resp, HttpServletResponse.SC_OK, ApiJson.document("backends", r.backends(), ApiJson::backend));
        } else if (ROUTES.equals(path)) {
            ApiJson.send(resp, HttpServletResponse.SC_OK, ApiJson.document("routes", r.routes(), ApiServlet::route));
        } else {
            ApiJson.sendError(resp, HttpServletResponse.SC_NOT_FOUND, "no such resource: " + path);
        }
    }

    /** {@code {"name","source","backends","types","enabled","priority","global","origin"}}. */
    private static void route(JsonGenerator g, RouteInfo r) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", r.name());
        g.writeStringField("source", r.source());
        ApiJson.strings(g, "backends", r.backends());
        ApiJson.strings(g, "types", new TreeSet<>(r.types()));
        g.writeBooleanField("enabled", r.enabled());
        g.writeNumberField("priority", r.priority());
        g.writeBooleanField("global", r.global());
        g.writeStringField("origin", r.origin());
        g.writeEndObject();
    }

    /**
     * {@code {"sources":[{"name","received_total","buffered",…}]}}: every counter and gauge whose
     * only label is {@code source}, from every StatsSource, by source name (added up if two report it).
     */
    byte[] sources() {
        Map<String, Map<String, Double>> bySource = new TreeMap<>();
        for (StatsSources.Read read : StatsSources.read(services.statsSources, SOURCES)) {
            for (MetricSamples.Sample s : read.samples().all()) {
                String source = s.labels().size() == 1 ? s.label("source") : null;
                if (source == null || s.type() == MetricSamples.Type.HISTOGRAM) {
                    continue;
                }
                String field = SOURCE_FIELDS.get(s.name());
                if (field == null) {
                    field = s.name().startsWith("signalbox_") ? s.name().substring(10) : s.name();
                }
                bySource.computeIfAbsent(source, k -> newSource()).merge(field, s.value(), Double::sum);
            }
        }
        return ApiJson.document("sources", bySource.entrySet(), ApiServlet::source);
    }

    /** {@code {"name",<field>…}}. */
    private static void source(JsonGenerator g, Map.Entry<String, Map<String, Double>> source) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", source.getKey());
        for (Map.Entry<String, Double> f : source.getValue().entrySet()) {
            g.writeFieldName(f.getKey());
            ApiJson.number(g, f.getValue());
        }
        g.writeEndObject();
    }

    private static Map<String, Double> newSource() {
        Map<String, Double> fields = new LinkedHashMap<>();
        fields.put("received_total", 0.0);
        fields.put("buffered", 0.0);
        return fields;
    }
}
