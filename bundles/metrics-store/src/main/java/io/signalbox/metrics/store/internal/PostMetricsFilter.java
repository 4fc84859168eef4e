package io.signalbox.metrics.store.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import io.signalbox.api.Ingest;
import io.signalbox.api.Message;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code POST /metrics}, seed 004's ingest: {@code {"name":"cpu_usage","value":85}} with optional
 * {@code timestamp} (epoch ms, default now), {@code tags} (string map), {@code source} (default
 * {@code post.default.source}) and {@code unit}; one object or an array of them.
 *
 * <p>{@code GET /metrics} stays the sidecar's own Prometheus exposition (the HTTP bundle's servlet):
 * this is a whiteboard filter on that path that takes POSTs and passes every other request on.
 * Each point becomes a protocol v1 {@code metric} message offered to the pipeline like any other
 * (so it is routed to the store by the metrics route, and to any other route that takes metrics).
 * Answers 202 {@code {"accepted":N,"rejected":M,"errors":[{"index":i,"reason":"…"}]}} if at least
 * one point was accepted, 400 with the same body if none, 413 above {@code post.max.bytes}, 503 if
 * the pipeline is full or not running.
 */
@Component(name = "io.signalbox.metrics.store.post", service = Filter.class)
@HttpWhiteboardFilterPattern("/metrics")
public final class PostMetricsFilter implements Filter {
    static final int MAX_ERRORS_LISTED = 100;

    private final MetricStoreComponent store;
    private final LineDecoder decoder = new LineDecoder();
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Ingest ingest;

    @Activate
    public PostMetricsFilter(@Reference MetricStoreComponent store) {
        this.store = store;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse resp = (HttpServletResponse) response;
        if (!"POST".equals(req.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        Ingest in = ingest;
        if (in == null || !in.isWritable()) {
            resp.setHeader("Retry-After", "1");
            Json.error(resp, 503, in == null ? "the pipeline is not running" : "the pipeline is full; retry later");
            return;
        }
        int max = store.config().post_max_bytes();
        byte[] body = read(req.getInputStream(), req.getContentLengthLong(), max);
        if (body == null) {
            resp.setHeader("Connection", "close");
            Json.error(resp, 413, "request body larger than post.max.bytes=" + max);
            return;
        }
        Outcome out = ingest(in, body, System.currentTimeMillis());
        Json.send(resp, out.accepted > 0 ? 202 : 400, out::write);
    }

    /** The answer: counts and the first {@value #MAX_ERRORS_LISTED} reasons. */
    static final class Outcome {
        int accepted;
        int rejected;
        final List<Object[]> errors = new ArrayList<>();

        void reject(int index, String reason) {
            rejected++;
            if (errors.size() < MAX_ERRORS_LISTED) {
                errors.add(new Object[] {index, reason});
            }
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeNumberField("accepted", accepted);
            g.writeNumberField("rejected", rejected);
            g.writeArrayFieldStart("errors");
            for (Object[] e : errors) {
                g.writeStartObject();
                g.writeNumberField("index", (Integer) e[0]);
                g.writeStringField("reason", (String) e[1]);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    /** One point as read from the body, before validation. */
    private static final class Point {
        String name;
        Double value;
        Long timestamp;
        String source;
        String unit;
        Map<String, String> tags = new TreeMap<>();
        String problem;

        void problem(String p) {
            if (problem == null) {
                problem = p;
            }
        }
    }

    Outcome ingest(Ingest in, byte[] body, long now) {
        Outcome out = new Outcome();
        List<Point> points = new ArrayList<>();
        try (JsonParser p = Json.FACTORY.createParser(body)) {
            JsonToken t = p.nextToken();
            if (t == JsonToken.START_OBJECT) {
                points.add(point(p));
            } else if (t == JsonToken.START_ARRAY) {
                while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                    if (t == JsonToken.START_OBJECT) {
                        points.add(point(p));
                    } else {
                        p.skipChildren();
                        Point bad = new Point();
                        bad.problem("not a JSON object");
                        points.add(bad);
                    }
                }
            } else {
                out.reject(0, t == null ? "empty body" : "the body must be a JSON object or an array of objects");
                return out;
            }
            if (p.nextToken() != null) {
                out.reject(0, "trailing data after the JSON value");
                return out;
            }
        } catch (JsonParseException e) {
            out.rejected = 0;
            out.errors.clear();
            out.reject(points.size(), "malformed JSON: " + e.getOriginalMessage());
            return out; // nothing of a broken body is taken
        } catch (IOException e) {
            out.reject(0, "unreadable body: " + e.getMessage());
            return out;
        }
        String defaultSource = store.config().post_default_source();
        for (int i = 0; i < points.size(); i++) {
            Point pt = points.get(i);
            if (pt.problem == null && (pt.name == null || pt.name.isEmpty())) {
                pt.problem("\"name\" is required (a non-empty string)");
            }
            if (pt.problem == null && pt.value == null) {
                pt.problem("\"value\" is required (a number)");
            }
            if (pt.problem != null) {
                out.reject(i, pt.problem);
                continue;
            }
            byte[] line = line(pt, pt.source == null ? defaultSource : pt.source, pt.timestamp == null ? now : pt.timestamp);
            DecodeResult r = decoder.decode(line);
            Message m = r.message();
            if (m == null) {
                out.reject(i, r.isRejected() ? r.reason().label() + ": " + r.detail() : "not a message");
                continue;
            }
            in.offer(m);
            out.accepted++;
        }
        return out;
    }

    private static Point point(JsonParser p) throws IOException {
        Point pt = new Point();
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken v = p.nextToken();
            switch (f) {
                case "name" -> {
                    if (v == JsonToken.VALUE_STRING) {
                        pt.name = p.getText();
                    } else {
                        pt.problem("\"name\" must be a string");
                    }
                }
                case "value" -> {
                    if (v.isNumeric()) {
                        pt.value = p.getDoubleValue();
                    } else {
                        pt.problem("\"value\" must be a number");
                    }
                }
                case "timestamp" -> {
                    if (v == JsonToken.VALUE_NUMBER_INT && p.getLongValue() >= 0) {
                        pt.timestamp = p.getLongValue();
                    } else {
                        pt.problem("\"timestamp\" must be epoch milliseconds (a non-negative integer)");
                    }
                }
                case "source" -> {
                    if (v == JsonToken.VALUE_STRING && !p.getText().isEmpty()) {
                        pt.source = p.getText();
                    } else {
                        pt.problem("\"source\" must be a non-empty string");
                    }
                }
                case "unit" -> {
                    if (v == JsonToken.VALUE_STRING) {
                        pt.unit = p.getText();
                    } else {
                        pt.problem("\"unit\" must be a string");
                    }
                }
                case "tags" -> {
                    if (v != JsonToken.START_OBJECT) {
                        pt.problem("\"tags\" must be an object of strings");
                        p.skipChildren();
                        break;
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String k = p.currentName();
                        if (p.nextToken() == JsonToken.VALUE_STRING) {
                            pt.tags.put(k, p.getText());
                        } else {
                            pt.problem("tag \"" + k + "\" must be a string");
                            p.skipChildren();
                        }
                    }
                }
                default -> {
                    pt.problem("unknown field \"" + f + "\" (known: name, value, timestamp, tags, source, unit)");
                    p.skipChildren();
                }
            }
        }
        return pt;
    }

    private static byte[] line(Point pt, String source, long ts) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (JsonGenerator g = Json.FACTORY.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeNumberField("v", 1);
            g.writeStringField("src", source);
            g.writeNumberField("ts", ts);
            g.writeStringField("type", "metric");
            g.writeObjectFieldStart("data");
            g.writeStringField("name", pt.name);
            g.writeNumberField("value", pt.value);
            if (pt.unit != null) {
                g.writeStringField("unit", pt.unit);
            }
            if (!pt.tags.isEmpty()) {
                g.writeObjectFieldStart("tags");
                for (Map.Entry<String, String> e : pt.tags.entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads at most {@code max} bytes; {@code null} if the body is longer. */
    static byte[] read(InputStream in, long declared, int max) throws IOException {
        if (declared > max) {
            return null;
        }
        byte[] body = in.readNBytes(max);
        if (body.length == max && in.read() >= 0) {
            return null;
        }
        return body;
    }
}
