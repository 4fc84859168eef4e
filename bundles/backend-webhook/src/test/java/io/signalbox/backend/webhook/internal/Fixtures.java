package io.signalbox.backend.webhook.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.util.converter.Converters;

import io.signalbox.api.FakeFramework;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures extends FakeFramework {
    private Fixtures() {
    }

    static WebhookBackendComponent.Config config(Map<String, ?> map) {
        return Converters.standardConverter().convert(map).to(WebhookBackendComponent.Config.class);
    }

    static WebhookSettings settings(Map<String, ?> map) {
        return WebhookSettings.of(config(map), map);
    }

    /** Properties as fileinstall delivers them for {@code etc/io.signalbox.backend.webhook-alerts.cfg}. */
    static Map<String, Object> fileConfig(Object... keyValues) {
        Map<String, Object> p = props(keyValues);
        p.put("service.pid", "io.signalbox.backend.webhook~alerts");
        p.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.webhook-alerts.cfg");
        return p;
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
