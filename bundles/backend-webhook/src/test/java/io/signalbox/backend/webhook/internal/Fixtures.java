package io.signalbox.backend.webhook.internal;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures {
    private Fixtures() {
    }

    static WebhookBackendComponent.Config config(Map<String, ?> map) {
        return Converters.standardConverter().convert(map).to(WebhookBackendComponent.Config.class);
    }

    static WebhookSettings settings(Map<String, ?> map) {
        return WebhookSettings.of(config(map), map);
    }

    static Map<String, Object> props(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /** Properties as fileinstall delivers them for {@code etc/io.signalbox.backend.webhook-alerts.cfg}. */
    static Map<String, Object> fileConfig(Object... keyValues) {
        Map<String, Object> p = props(keyValues);
        p.put("service.pid", "io.signalbox.backend.webhook~alerts");
        p.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.webhook-alerts.cfg");
        return p;
    }

    /** A registration made through {@link #context}. */
    record Registered(List<String> classes, Object service, Map<String, Object> properties) {
    }

    /** A framework stand-in: {@code registered} holds each registration until it is unregistered. */
    @SuppressWarnings("unchecked") // the properties are a Hashtable<String, Object> (BackendNames.serviceProperties)
    static BundleContext context(List<Registered> registered) {
        ClassLoader loader = Fixtures.class.getClassLoader();
        return (BundleContext) Proxy.newProxyInstance(loader, new Class<?>[] {BundleContext.class}, (c, m, args) -> {
            Registered r = new Registered(List.of((String[]) args[0]), args[1], (Map<String, Object>) args[2]);
            registered.add(r);
            return Proxy.newProxyInstance(loader, new Class<?>[] {ServiceRegistration.class},
                    (reg, op, none) -> op.getName().equals("unregister") && registered.remove(r));
        });
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
