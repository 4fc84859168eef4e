package io.signalbox.http.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.ConfigCheck;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The JSON answers of every endpoint but {@code /metrics}, written with jackson-core's generator:
 * rendering a document, sending it, the shared pieces (errors, a backend's state, a rejected
 * configuration, stats values).
 */
final class ApiJson {
    /**
     * Shared, thread-safe; no nesting limit: a trace's span chain is as deep as the store lets it
     * be ({@link TraceServletJson} writes it without recursion).
     */
    static final JsonFactory FACTORY = JsonFactory.builder()
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
            .build();
    static final String CONTENT_TYPE = "application/json; charset=utf-8";
    /** Integral doubles up to this size are written as integers (they are exact). */
    private static final double EXACT_INTEGERS = 1L << 53;

    private ApiJson() {
    }

    /** What writes one document. */
    @FunctionalInterface
    interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    /** The document {@code writer} writes, as UTF-8 bytes. */
    static byte[] render(Writer writer) {
        ByteArrayBuilder out = new ByteArrayBuilder(512);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            writer.write(g);
        } catch (IOException e) {
            // a ByteArrayBuilder does no I/O: only a bug in a writer gets here
            throw new UncheckedIOException("cannot write JSON", e);
        }
        return out.toByteArray();
    }

    /** {@code {"error":"…"}}. */
    static byte[] error(String message) {
        return render(g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }

    /** Writes a JSON answer with its length, not to be cached. */
    static void send(HttpServletResponse resp, int status, byte[] body) throws IOException {
        resp.setStatus(status);
        resp.setContentType(CONTENT_TYPE);
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    /** Answers {@code status} with {@code {"error":"message"}}. */
    static void sendError(HttpServletResponse resp, int status, String message) throws IOException {
        send(resp, status, error(message));
    }

    /** 405 with {@code Allow} and a JSON error. */
    static void methodNotAllowed(HttpServletResponse resp, String allow) throws IOException {
        resp.setHeader("Allow", allow);
        sendError(resp, HttpServletResponse.SC_METHOD_NOT_ALLOWED, "method not allowed; allowed: " + allow);
    }

    /** What writes one element of an array. */
    @FunctionalInterface
    interface Element<T> {
        void write(JsonGenerator g, T item) throws IOException;
    }

    /** {@code "field":[element,…]}. */
    static <T> void array(JsonGenerator g, String field, Iterable<T> items, Element<? super T> element)
            throws IOException {
        g.writeArrayFieldStart(field);
        for (T item : items) {
            element.write(g, item);
        }
        g.writeEndArray();
    }

    /** The document {@code {"field":[element,…]}}. */
    static <T> byte[] document(String field, Iterable<T> items, Element<? super T> element) {
        return render(g -> {
            g.writeStartObject();
            array(g, field, items, element);
            g.writeEndObject();
        });
    }

    /** {@code "field":["…",…]}. */
    static void strings(JsonGenerator g, String field, Iterable<String> values) throws IOException {
        array(g, field, values, JsonGenerator::writeString);
    }

    /**
     * BACKEND: {@code {"name","kind","state","queued_messages","spool_messages","spool_bytes",
     * "routed_messages","written_messages","write_failures","dead_letter_messages","spool_dropped_messages"}}.
     */
    static void backend(JsonGenerator g, BackendStatus b) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", b.name());
        g.writeStringField("kind", b.kind());
        g.writeStringField("state", b.state() == null ? null : b.state().wireName());
        g.writeNumberField("queued_messages", b.queuedMessages());
        g.writeNumberField("spool_messages", b.spoolMessages());
        g.writeNumberField("spool_bytes", b.spoolBytes());
        g.writeNumberField("routed_messages", b.routedMessages());
        g.writeNumberField("written_messages", b.writtenMessages());
        g.writeNumberField("write_failures", b.writeFailures());
        g.writeNumberField("dead_letter_messages", b.deadLetterMessages());
        g.writeNumberField("spool_dropped_messages", b.spoolDroppedMessages());
        g.writeEndObject();
    }

    /** {@code {"at":"<ISO-8601>","pid":"…","message":"…"}}. */
    static void rejection(JsonGenerator g, ConfigCheck.Rejection r) throws IOException {
        g.writeStartObject();
        g.writeStringField("at", Instant.ofEpochMilli(r.epochMillis()).toString());
        g.writeStringField("pid", r.pid());
        g.writeStringField("message", r.message());
        g.writeEndObject();
    }

    /** A stats value: a whole number as an integer ({@code 12}, not {@code 12.0}), else a double; not a number as null. */
    static void number(JsonGenerator g, double d) throws IOException {
        if (d == Math.rint(d) && Math.abs(d) <= EXACT_INTEGERS) {
            g.writeNumber((long) d);
        } else if (Double.isFinite(d)) {
            g.writeNumber(d);
        } else {
            g.writeNull();
        }
    }
}
