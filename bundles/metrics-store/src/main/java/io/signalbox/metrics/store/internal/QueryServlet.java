package io.signalbox.metrics.store.internal;

import java.io.IOException;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.signalbox.metrics.promql.PromQLException;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /query?name=&start=&end=}, seed 004's query: the raw points of every series named
 * {@code name} with start ≤ timestamp ≤ end (epoch ms; default the last hour up to now), in time
 * order, as a JSON array of {@code {"name","timestamp","value","source","tags"}}. More points than
 * {@code query.max.samples} (or {@code limit}) is a 400: narrow the range.
 */
@Component(name = "io.signalbox.metrics.store.query", service = Servlet.class)
@HttpWhiteboardServletPattern("/query")
public final class QueryServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient MetricStoreComponent component;

    @Activate
    public QueryServlet(@Reference MetricStoreComponent component) {
        this.component = component;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        DuckStore store;
        try {
            store = component.store();
        } catch (MetricStoreComponent.StoreUnavailableException e) {
            Json.error(resp, 503, e.getMessage());
            return;
        }
        if (store == null) {
            Json.error(resp, 503, "the metrics store is disabled (enabled=false in etc/io.signalbox.metrics.store.cfg)");
            return;
        }
        String name = req.getParameter("name");
        if (name == null || name.isBlank()) {
            Json.error(resp, 400, "parameter 'name' is required");
            return;
        }
        long now = System.currentTimeMillis();
        long end;
        long start;
        long limit;
        try {
            end = longParam(req, "end", now);
            start = longParam(req, "start", end - 3_600_000L);
            limit = longParam(req, "limit", component.config().query_max_samples());
        } catch (NumberFormatException e) {
            Json.error(resp, 400, e.getMessage());
            return;
        }
        if (start > end) {
            Json.error(resp, 400, "start (" + start + ") is after end (" + end + ")");
            return;
        }
        if (limit < 1) {
            Json.error(resp, 400, "limit must be >= 1");
            return;
        }
        List<DuckStore.RawPoint> points;
        try {
            points = store.raw(name, start, end, Math.min(limit, component.config().query_max_samples()));
        } catch (PromQLException e) {
            Json.error(resp, 400, e.getMessage());
            return;
        }
        Json.send(resp, 200, g -> {
            g.writeStartArray();
            for (DuckStore.RawPoint p : points) {
                g.writeStartObject();
                g.writeStringField("name", p.series().name());
                g.writeNumberField("timestamp", p.ts());
                g.writeNumberField("value", p.value());
                g.writeStringField("source", p.series().source());
                g.writeFieldName("tags");
                Json.labels(g, p.series().tags());
                if (p.series().unit() != null) {
                    g.writeStringField("unit", p.series().unit());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    private static long longParam(HttpServletRequest req, String name, long dflt) {
        String v = req.getParameter(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new NumberFormatException("parameter '" + name + "' must be an integer (epoch milliseconds), got \"" + v + "\"");
        }
    }
}
