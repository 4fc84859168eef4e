package io.signalbox.backend.webhook.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.signalbox.api.FakeFramework;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures extends FakeFramework {
    private Fixtures() {
    }

    static WebhookSettings settings(Map<String, ?> map) {
        return settings(WebhookConfig.class, map, WebhookSettings::of);
    }

    /** A short-form event line with non-ASCII text, escapes and a comma inside a string. */
    static byte[] line(int i) {
        return ("{\"v\":1,\"src\":\"svc\",\"ts\":" + (1700000000000L + i)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"n° " + i
                + " ✓ \\\"quoted\\\", [not] an array\"}}").getBytes(StandardCharsets.UTF_8);
    }

    static Batch batch(int count) {
        return batch(0, count);
    }

    static Batch batch(int first, int count) {
        List<Message> messages = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            messages.add(new Message("svc", 1700000000000L + i, MessageType.EVENT, null, null, null, "info", null, line(i)));
        }
        return new Batch("svc", messages);
    }
}
