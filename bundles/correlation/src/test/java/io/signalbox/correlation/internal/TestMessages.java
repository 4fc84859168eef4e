package io.signalbox.correlation.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.osgi.util.converter.Converters;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/** Builds messages and configs for tests; the line is a short marker, not real JSON. */
final class TestMessages {
    private TestMessages() {
    }

    static Message event(String source, String level, String line) {
        return new Message(source, 1_000L, MessageType.EVENT, null, null, null, level, null, bytes(line));
    }

    static Message info(String source, String line) {
        return event(source, "info", line);
    }

    static Message tracedEvent(String source, String traceId, long ts) {
        return new Message(source, ts, MessageType.EVENT, traceId, null, null, "info", null,
                bytes(source + ":" + traceId));
    }

    static Message span(String source, String traceId, String spanId, String parentId, String name, long start) {
        return new Message(source, start, MessageType.SPAN, traceId, spanId, parentId, null,
                new SpanInfo(name, "ok", start, start + 5), bytes(source + ":" + spanId));
    }

    static CorrelationEngine.Config config(Map<String, ?> properties) {
        return Converters.standardConverter().convert(properties).to(CorrelationEngine.Config.class);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
