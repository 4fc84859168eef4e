package io.signalbox.backend.cloudwatch.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.signalbox.api.FakeFramework;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures extends FakeFramework {
    private Fixtures() {
    }

    static CloudWatchConfig config(Map<String, ?> map) {
        return config(CloudWatchConfig.class, map);
    }

    static CloudWatchSettings settings(Map<String, ?> map) {
        return settings(CloudWatchConfig.class, map, CloudWatchSettings::of);
    }

    /** Properties for a backend talking to the in-test endpoint, with static test credentials. */
    static Map<String, Object> endpointProps(LogsEndpoint endpoint, Object... more) {
        Map<String, Object> m = props("region", "eu-west-1", "endpoint", endpoint.uri().toString(),
                "access.key.id", "AKIDTEST", "secret.access.key", "s3cr3t-never-logged", "max.attempts", 1);
        m.putAll(props(more));
        return m;
    }

    /** An event line with non-ASCII text; {@code pad} extra characters make it larger. */
    static Message message(String source, MessageType type, long ts, int i, int pad) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"" + type.name().toLowerCase()
                + "\",\"data\":{\"level\":\"info\",\"msg\":\"n° " + i + " ✓ " + "x".repeat(pad) + "\"}}";
        return new Message(source, ts, type, null, null, null, "info", null, line.getBytes(StandardCharsets.UTF_8));
    }

    /** A short line ({@code {"i":N}}), so that the event count, not the byte size, limits a call. */
    static Message tiny(long ts, int i) {
        return new Message("svc", ts, MessageType.EVENT, null, null, null, "info", null,
                ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8));
    }

    static Message message(long ts, int i) {
        return message("svc", MessageType.EVENT, ts, i, 0);
    }
}
