package io.signalbox.backend.cloudwatch.internal;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures {
    private Fixtures() {
    }

    static CloudWatchBackendComponent.Config config(Map<String, ?> map) {
        return Converters.standardConverter().convert(map).to(CloudWatchBackendComponent.Config.class);
    }

    static CloudWatchSettings settings(Map<String, ?> map) {
        return CloudWatchSettings.of(config(map), map);
    }

    static Map<String, Object> props(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /** Properties for a backend talking to the in-test endpoint, with static test credentials. */
    static Map<String, Object> endpointProps(LogsEndpoint endpoint, Object... more) {
        Map<String, Object> m = props("region", "eu-west-1", "endpoint", endpoint.uri().toString(),
                "access.key.id", "AKIDTEST", "secret.access.key", "s3cr3t-never-logged", "max.attempts", 1);
        m.putAll(props(more));
        return m;
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
