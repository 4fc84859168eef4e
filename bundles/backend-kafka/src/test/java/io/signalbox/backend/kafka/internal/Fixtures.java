package io.signalbox.backend.kafka.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.signalbox.api.FakeFramework;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures extends FakeFramework {
    private Fixtures() {
    }

    static KafkaSettings settings(Map<String, ?> map) {
        return settings(KafkaConfig.class, map, KafkaSettings::of);
    }

    /** A short-form event line of {@code source} (trace {@code tid} if not null) with non-ASCII text. */
    static Message event(String source, String tid, int i) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + (1700000000000L + i) + ",\"type\":\"event\""
                + (tid != null ? ",\"tid\":\"" + tid + "\"" : "") + ",\"data\":{\"level\":\"info\",\"msg\":\"n° " + i + " ✓\"}}";
        return new Message(source, 1700000000000L + i, MessageType.EVENT, tid, null, null, "info", null,
                line.getBytes(StandardCharsets.UTF_8));
    }

    static Message metric(String source, int i) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + (1700000000000L + i)
                + ",\"type\":\"metric\",\"data\":{\"name\":\"m\",\"value\":" + i + "}}";
        return new Message(source, 1700000000000L + i, MessageType.METRIC, null, null, null, null, null,
                line.getBytes(StandardCharsets.UTF_8));
    }
}
