package io.signalbox.metrics.store.internal;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.core.JsonGenerator;

import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.Expr;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.PromQLException;
import io.signalbox.metrics.promql.Values;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The Prometheus HTTP API (the read side, enough for promtool and Grafana's Prometheus data source):
 * {@code /api/v1/query}, {@code /api/v1/query_range}, {@code /api/v1/series}, {@code /api/v1/labels},
 * {@code /api/v1/label/<name>/values}, {@code /api/v1/status/buildinfo}; GET or POST (form-encoded),
 * answers in Prometheus' JSON envelope. Errors: 400 {@code bad_data} for a query outside the
 * supported subset, 422 {@code execution} when evaluation fails (too many samples), 404 otherwise.
 */
@Component(name = "io.signalbox.metrics.store.promapi", service = Servlet.class)
@HttpWhiteboardServletPattern("/api/v1/*")
public final class PromApiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** Series and label listings without start/end cover everything stored. */
    private static final long ALL_START = 0;

    private final transient MetricStoreComponent component;

    @Activate
    public PromApiServlet(@Reference MetricStoreComponent component) {
        this.component = component;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        handle(req, resp);
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        handle(req, resp);
    }

    private void handle(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        if (path.equals("/status/buildinfo")) {
            success(resp, g -> {
                g.writeStartObject();
                g.writeStringField("version", "2.53.0");
                g.writeStringField("revision", "signalbox");
                g.writeStringField("branch", "signalbox-metrics-store");
                g.writeEndObject();
            });
            return;
        }
        DuckStore store;
        Engine engine;
        try {
            store = component.store();
            engine = component.engine();
        } catch (MetricStoreComponent.StoreUnavailableException e) {
            error(resp, 503, "unavailable", e.getMessage());
            return;
        }
        if (store == null) {
            error(resp, 503, "unavailable", "the metrics store is disabled (enabled=false in etc/io.signalbox.metrics.store.cfg)");
            return;
        }
        long now = System.currentTimeMillis();
        try {
            if (path.equals("/query")) {
                Expr e = Parser.parse(req.getParameter("query"));
                long t = time(req.getParameter("time"), now, "time");
                Values.Value v = engine.instant(e, t);
                success(resp, g -> instant(g, v, t));
            } else if (path.equals("/query_range")) {
                Expr e = Parser.parse(req.getParameter("query"));
                long start = time(required(req, "start"), now, "start");
                long end = time(required(req, "end"), now, "end");
                long step = step(required(req, "step"));
                Engine.RangeResult r = engine.range(e, start, end, step);
                success(resp, g -> range(g, r));
            } else if (path.equals("/series")) {
                List<Series> s = selected(store, req, true);
                success(resp, g -> {
                    g.writeStartArray();
                    for (Series x : s) {
                        Json.labels(g, x.labels());
                    }
                    g.writeEndArray();
                });
            } else if (path.equals("/labels")) {
                Set<String> names = new TreeSet<>();
                selected(store, req, false).forEach(s -> names.addAll(s.labels().keySet()));
                success(resp, g -> strings(g, names));
            } else if (path.startsWith("/label/") && path.endsWith("/values") && path.length() > "/label//values".length()) {
                String label = path.substring("/label/".length(), path.length() - "/values".length());
                Set<String> values = new TreeSet<>();
                for (Series s : selected(store, req, false)) {
                    String v = s.labels().get(label);
                    if (v != null) {
                        values.add(v);
                    }
                }
                success(resp, g -> strings(g, values));
            } else {
                error(resp, 404, "not_found", "unknown endpoint /api/v1" + path + " (supported: query, query_range, series, "
                        + "labels, label/<name>/values, status/buildinfo)");
            }
        } catch (PromQLException e) {
            error(resp, e.type().equals("execution") ? 422 : 400, e.type(), e.getMessage());
        }
    }

    /** The series of the {@code match[]} selectors (all series if none and {@code allowAll}) with points in [start, end]. */
    private static List<Series> selected(DuckStore store, HttpServletRequest req, boolean matchRequired) {
        String[] matches = req.getParameterValues("match[]");
        long now = System.currentTimeMillis();
        long start = time(req.getParameter("start"), ALL_START, "start");
        long end = time(req.getParameter("end"), Long.MAX_VALUE / 2, "end");
        boolean ranged = req.getParameter("start") != null || req.getParameter("end") != null;
        if (matches == null || matches.length == 0) {
            if (matchRequired) {
                throw new PromQLException("no match[] parameter provided");
            }
            List<Series> all = store.allSeries();
            return ranged ? store.withPoints(all, start, end) : all;
        }
        Set<Series> out = new LinkedHashSet<>();
        for (String m : matches) {
            Expr e = Parser.parse(m);
            if (!(e instanceof Expr.Selector s)) {
                throw new PromQLException("match[] must be a series selector, got \"" + m + "\"");
            }
            out.addAll(store.matching(s.matchers()));
        }
        List<Series> list = new ArrayList<>(out);
        list.sort((a, b) -> a.labels().toString().compareTo(b.labels().toString()));
        return ranged ? store.withPoints(list, start, end) : list;
    }

    private static String required(HttpServletRequest req, String name) {
        String v = req.getParameter(name);
        if (v == null || v.isBlank()) {
            throw new PromQLException("missing parameter '" + name + "'");
        }
        return v;
    }

    /** Prometheus' time parameter: Unix seconds (with decimals) or RFC 3339. */
    static long time(String v, long dflt, String what) {
        if (v == null || v.isBlank()) {
            return dflt;
        }
        String s = v.trim();
        try {
            return new BigDecimal(s).movePointRight(3).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            try {
                return OffsetDateTime.parse(s).toInstant().toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw new PromQLException("invalid parameter '" + what + "': cannot parse \"" + v
                        + "\" to a valid timestamp (Unix seconds or RFC 3339)");
            }
        }
    }

    /** Step: seconds (with decimals) or a duration ({@code 1m}). */
    static long step(String v) {
        String s = v.trim();
        long ms;
        try {
            ms = new BigDecimal(s).movePointRight(3).longValue();
        } catch (NumberFormatException e) {
            ms = Parser.duration(s);
        }
        if (ms <= 0) {
            throw new PromQLException("zero or negative query resolution step widths are not accepted. Try a positive integer");
        }
        return ms;
    }

    private static void instant(JsonGenerator g, Values.Value v, long t) throws IOException {
        g.writeStartObject();
        if (v instanceof Values.Scalar s) {
            g.writeStringField("resultType", "scalar");
            g.writeArrayFieldStart("result");
            Json.promTime(g, t);
            g.writeString(Json.promValue(s.value()));
            g.writeEndArray();
        } else if (v instanceof Values.Vector vec) {
            g.writeStringField("resultType", "vector");
            g.writeArrayFieldStart("result");
            for (Values.Sample s : vec.samples()) {
                g.writeStartObject();
                g.writeFieldName("metric");
                Json.labels(g, s.labels());
                g.writeArrayFieldStart("value");
                Json.promTime(g, t);
                g.writeString(Json.promValue(s.value()));
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
        } else {
            g.writeStringField("resultType", "matrix");
            g.writeArrayFieldStart("result");
            for (Values.SeriesData d : ((Values.Matrix) v).series()) {
                series(g, d.labels(), d.timestamps(), d.values());
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    private static void range(JsonGenerator g, Engine.RangeResult r) throws IOException {
        g.writeStartObject();
        g.writeStringField("resultType", "matrix");
        g.writeArrayFieldStart("result");
        for (Engine.RangeResult.Series s : r.series()) {
            series(g, s.labels(), s.timestamps(), s.values());
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void series(JsonGenerator g, Map<String, String> labels, long[] ts, double[] vs) throws IOException {
        g.writeStartObject();
        g.writeFieldName("metric");
        Json.labels(g, labels);
        g.writeArrayFieldStart("values");
        for (int i = 0; i < ts.length; i++) {
            g.writeStartArray();
            Json.promTime(g, ts[i]);
            g.writeString(Json.promValue(vs[i]));
            g.writeEndArray();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void strings(JsonGenerator g, Set<String> values) throws IOException {
        g.writeStartArray();
        for (String s : values) {
            g.writeString(s);
        }
        g.writeEndArray();
    }

    private static void success(HttpServletResponse resp, Json.Body data) throws IOException {
        Json.send(resp, 200, g -> {
            g.writeStartObject();
            g.writeStringField("status", "success");
            g.writeFieldName("data");
            data.write(g);
            g.writeEndObject();
        });
    }

    private static void error(HttpServletResponse resp, int status, String type, String message) throws IOException {
        Json.send(resp, status, g -> {
            g.writeStartObject();
            g.writeStringField("status", "error");
            g.writeStringField("errorType", type);
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }
}
