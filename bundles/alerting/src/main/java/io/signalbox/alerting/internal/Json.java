package io.signalbox.alerting.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

/** JSON output: the alert events, Alertmanager's payload, the state file, the API answers. */
final class Json {
    static final JsonFactory FACTORY = new JsonFactory();

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private Json() {
    }

    static byte[] bytes(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static void map(JsonGenerator g, String field, Map<String, String> m) throws IOException {
        g.writeObjectFieldStart(field);
        for (Map.Entry<String, String> e : m.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    static String rfc3339(long epochMs) {
        return Instant.ofEpochMilli(epochMs).toString();
    }

    /** The alert event ({@code type: event}, source {@value AlertingComponent#SOURCE}) of one state change. */
    static byte[] event(RuleState.Transition t) {
        Alert a = t.alert();
        Rule r = t.rule().rule;
        return bytes(g -> {
            g.writeStartObject();
            g.writeNumberField("v", 1);
            g.writeStringField("src", AlertingComponent.SOURCE);
            g.writeNumberField("ts", t.at());
            g.writeStringField("type", "event");
            g.writeObjectFieldStart("data");
            g.writeStringField("level", level(t));
            g.writeStringField("msg", "alert " + r.name() + " " + t.to() + " " + a.labels);
            g.writeStringField("alertname", r.name());
            g.writeStringField("state", t.to());
            g.writeStringField("previous", t.from());
            map(g, "labels", a.labels);
            map(g, "annotations", a.annotations);
            g.writeNumberField("value", a.value);
            g.writeNumberField("activeAt", a.activeAt);
            g.writeStringField("expr", r.query());
            g.writeNumberField("for_ms", r.forMs());
            g.writeStringField("file", r.file());
            g.writeStringField("group", r.group());
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /**
     * {@code critical}/{@code warning} (the rule's {@code severity} label; any other or none is
     * {@code warning}) while pending or firing; {@code info} when the alert resolves or goes inactive.
     */
    static String level(RuleState.Transition t) {
        if (t.to().equals("resolved") || t.to().equals("inactive")) {
            return "info";
        }
        String s = t.alert().labels.getOrDefault("severity", "");
        return s.equalsIgnoreCase("critical") ? "critical" : "warning";
    }
}
