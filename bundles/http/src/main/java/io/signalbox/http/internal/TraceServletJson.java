package io.signalbox.http.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;

import io.signalbox.api.Message;
import io.signalbox.api.SpanNode;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceSource;
import io.signalbox.api.TraceSummary;

/**
 * The JSON documents of {@link TraceServlet}, written with jackson-core's generator
 * ({@link ApiJson#render}). Times are epoch milliseconds, like {@code ts} on the wire. Span trees
 * are written without recursion (a trace may be a chain thousands of spans deep), and
 * {@link ApiJson#FACTORY} has no nesting limit for the same reason.
 */
final class TraceServletJson {
    private TraceServletJson() {
    }

    /** A listed trace: {@code {"trace_id","span_count","message_count","sources","first_seen","last_seen"}}. */
    static void summary(JsonGenerator g, TraceSummary t) throws IOException {
        g.writeStartObject();
        g.writeStringField("trace_id", t.traceId());
        g.writeNumberField("span_count", t.spanCount());
        g.writeNumberField("message_count", t.messageCount());
        ApiJson.strings(g, "sources", t.sources());
        g.writeNumberField("first_seen", t.firstSeen());
        g.writeNumberField("last_seen", t.lastSeen());
        g.writeEndObject();
    }

    /**
     * {@code {"trace_id","duration_ms","span_count","message_count","first_seen","last_seen",
     * "sources","by_source":[{"source","spans","messages","start","end","duration_ms"}],
     * "events","metrics","events_cut","metrics_cut","roots":[SPAN…]}}; the trace's own events and
     * metrics are those that name no span.
     */
    static byte[] trace(Trace t) {
        return ApiJson.render(g -> {
            long start = t.firstSeen();
            long end = t.lastSeen();
            for (TraceSource s : t.bySource()) {
                start = Math.min(start, s.start());
                end = Math.max(end, s.end());
            }
            g.writeStartObject();
            g.writeStringField("trace_id", t.traceId());
            g.writeNumberField("duration_ms", Math.max(0, end - start));
            g.writeNumberField("span_count", t.spanCount());
            g.writeNumberField("message_count", t.messageCount());
            g.writeNumberField("first_seen", t.firstSeen());
            g.writeNumberField("last_seen", t.lastSeen());
            ApiJson.strings(g, "sources", t.bySource().stream().map(TraceSource::source).toList());
            ApiJson.array(g, "by_source", t.bySource(), TraceServletJson::bySource);
            messages(g, "events", t.events());
            messages(g, "metrics", t.metrics());
            g.writeNumberField("events_cut", t.eventsCut());
            g.writeNumberField("metrics_cut", t.metricsCut());
            g.writeArrayFieldStart("roots");
            spans(g, t.roots());
            g.writeEndObject();
        });
    }

    private static void bySource(JsonGenerator g, TraceSource s) throws IOException {
        g.writeStartObject();
        g.writeStringField("source", s.source());
        g.writeNumberField("spans", s.spanCount());
        g.writeNumberField("messages", s.messageCount());
        g.writeNumberField("start", s.start());
        g.writeNumberField("end", s.end());
        g.writeNumberField("duration_ms", s.durationMillis());
        g.writeEndObject();
    }

    /**
     * Writes the span forest after an opened array and closes it. SPAN = {@code {"span_id",
     * "parent_span_id","source","name","status","open","start","end","duration_ms","events",
     * "metrics","events_cut","metrics_cut","children":[SPAN…]}}.
     */
    private static void spans(JsonGenerator g, List<SpanNode> roots) throws IOException {
        Deque<Iterator<SpanNode>> stack = new ArrayDeque<>();
        stack.push(roots.iterator());
        while (!stack.isEmpty()) {
            Iterator<SpanNode> level = stack.peek();
            if (!level.hasNext()) {
                stack.pop();
                g.writeEndArray();
                if (!stack.isEmpty()) {
                    g.writeEndObject(); // the span whose children these were
                }
                continue;
            }
            SpanNode n = level.next();
            g.writeStartObject();
            g.writeStringField("span_id", n.spanId());
            g.writeStringField("parent_span_id", n.parentSpanId());
            g.writeStringField("source", n.source());
            g.writeStringField("name", n.span().name());
            g.writeStringField("status", n.span().status());
            g.writeBooleanField("open", n.isOpen());
            g.writeNumberField("start", n.span().start());
            g.writeNumberField("end", n.span().end());
            g.writeNumberField("duration_ms", n.span().durationMillis());
            messages(g, "events", n.events());
            messages(g, "metrics", n.metrics());
            g.writeNumberField("events_cut", n.eventsCut());
            g.writeNumberField("metrics_cut", n.metricsCut());
            g.writeArrayFieldStart("children");
            stack.push(n.children().iterator());
        }
    }

    /** {@code "<field>":[{"ts","source","type","data":{…as received…}}]}. */
    private static void messages(JsonGenerator g, String field, List<Message> messages) throws IOException {
        ApiJson.array(g, field, messages, TraceServletJson::message);
    }

    private static void message(JsonGenerator g, Message m) throws IOException {
        g.writeStartObject();
        g.writeNumberField("ts", m.timestamp());
        g.writeStringField("source", m.source());
        g.writeStringField("type", m.type().wireName());
        g.writeFieldName("data");
        copyData(g, m.line());
        g.writeEndObject();
    }

    /**
     * Copies the {@code data} member of a received line, or writes {@code null} if it has none or
     * the line is not JSON (every line was validated on the way in, so that would be a bug). The
     * member is copied into a buffer of its own first, so a bad line cannot leave half a value in
     * the document.
     */
    static void copyData(JsonGenerator g, byte[] line) throws IOException {
        ByteArrayBuilder data = new ByteArrayBuilder(line.length);
        boolean found = false;
        try (JsonParser p = ApiJson.FACTORY.createParser(line);
                JsonGenerator copy = ApiJson.FACTORY.createGenerator(data)) {
            if (p.nextToken() == JsonToken.START_OBJECT) {
                while (!found && p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if ("data".equals(name)) {
                        copy.copyCurrentStructure(p);
                        found = true;
                    } else {
                        p.skipChildren();
                    }
                }
            }
        } catch (JsonProcessingException notJson) {
            found = false;
        }
        if (found) {
            g.writeRawValue(new String(data.toByteArray(), StandardCharsets.UTF_8));
        } else {
            g.writeNull();
        }
    }
}
