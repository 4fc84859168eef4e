package io.signalbox.backend.postgres.internal;

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

    static PostgresBackendComponent.Config config(Map<String, ?> properties) {
        return Converters.standardConverter().convert(properties).to(PostgresBackendComponent.Config.class);
    }

    static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static PostgresSettings settings(Map<String, Object> properties) {
        return PostgresSettings.of(config(properties), properties, name -> null);
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


    /** An event whose msg is {@code msgJson} (already a JSON string literal, quotes included). */
    static Message event(String src, long ts, String tid, String sid, String pid, String msgJson) {
        String line = "{\"v\":1,\"src\":" + quote(src) + ",\"ts\":" + ts + ",\"type\":\"event\""
                + (tid == null ? "" : ",\"tid\":" + quote(tid)) + (sid == null ? "" : ",\"sid\":" + quote(sid))
                + (pid == null ? "" : ",\"pid\":" + quote(pid))
                + ",\"ctx\":{\"job_id\":" + quote(tid == null ? "none" : tid) + ",\"host\":\"h1\"}"
                + ",\"data\":{\"level\":\"info\",\"msg\":" + msgJson + "}}";
        return new Message(src, ts, MessageType.EVENT, tid, sid, pid, "info", null, line.getBytes(StandardCharsets.UTF_8));
    }

    static Message metric(String src, long ts, String name, double value, String unit, String tagsJson) {
        String line = "{\"v\":1,\"src\":" + quote(src) + ",\"ts\":" + ts + ",\"type\":\"metric\",\"data\":{\"name\":"
                + quote(name) + ",\"value\":" + value + (unit == null ? "" : ",\"unit\":" + quote(unit))
                + (tagsJson == null ? "" : ",\"tags\":" + tagsJson) + "}}";
        return new Message(src, ts, MessageType.METRIC, null, null, null, null, null, line.getBytes(StandardCharsets.UTF_8));
    }

    /** A JSON string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\t': sb.append("\\t"); break;
                case '\r': sb.append("\\r"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }
}
