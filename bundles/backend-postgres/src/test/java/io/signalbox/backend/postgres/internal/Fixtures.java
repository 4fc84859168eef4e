package io.signalbox.backend.postgres.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.signalbox.api.FakeFramework;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures extends FakeFramework {
    private Fixtures() {
    }

    static PostgresConfig config(Map<String, ?> properties) {
        return config(PostgresConfig.class, properties);
    }

    static PostgresSettings settings(Map<String, Object> properties) {
        return PostgresSettings.of(config(properties), properties, name -> null);
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
