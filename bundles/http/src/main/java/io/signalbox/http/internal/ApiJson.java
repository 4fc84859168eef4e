package io.signalbox.http.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.ConfigCheck;

/** JSON documents of the health, API and ingest endpoints, written with jackson-core's generator. */
final class ApiJson {
    /** Shared, thread-safe. */
    static final JsonFactory FACTORY = new JsonFactory();
    static final String CONTENT_TYPE = "application/json; charset=utf-8";

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

    /**
     * BACKEND: {@code {"name","kind","state","queued_messages","spool_messages","spool_bytes",
     * "routed_messages","write_failures","dead_letter_messages","spool_dropped_messages"}}.
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

    /** A JSON number for a stats value: integral types as integers, the rest as doubles. */
    static void number(JsonGenerator g, Number n) throws IOException {
        if (n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte) {
            g.writeNumber(n.longValue());
        } else {
            double d = n.doubleValue();
            if (Double.isFinite(d)) {
                g.writeNumber(d);
            } else {
                g.writeNull();
            }
        }
    }
}
