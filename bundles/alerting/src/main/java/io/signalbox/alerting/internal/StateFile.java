package io.signalbox.alerting.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * {@code state.json}: every rule's pending, firing and resolved alerts, written (to a temporary file, forced,
 * then renamed over the old one) after each evaluation that changed a state, and read at start, so an alert
 * keeps its state and its {@code for} clock across a restart (Prometheus does the same with its
 * {@code ALERTS_FOR_STATE} series).
 */
final class StateFile {
    static final String FILE = "state.json";
    private final Path file;

    StateFile(Path dir) {
        this.file = dir.resolve(FILE);
    }

    Path path() {
        return file;
    }

    void save(Collection<RuleState> rules) throws IOException {
        byte[] body = Json.bytes(g -> {
            g.writeStartObject();
            g.writeNumberField("version", 1);
            g.writeObjectFieldStart("rules");
            for (RuleState rs : rules) {
                if (rs.alerts.isEmpty()) {
                    continue;
                }
                g.writeArrayFieldStart(rs.rule.key());
                for (Alert a : rs.alerts.values()) {
                    g.writeStartObject();
                    Json.map(g, "labels", a.labels);
                    Json.map(g, "annotations", a.annotations);
                    g.writeStringField("state", a.state.label());
                    g.writeNumberField("value", a.value);
                    g.writeNumberField("activeAt", a.activeAt);
                    g.writeNumberField("firedAt", a.firedAt);
                    g.writeNumberField("resolvedAt", a.resolvedAt);
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeEndObject();
        });
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(body));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Rule key → its alerts; empty if there is no file yet. */
    Map<String, List<Alert>> load() throws IOException {
        Map<String, List<Alert>> out = new HashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        try (JsonParser p = Json.FACTORY.createParser(file.toFile())) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken t = p.nextToken();
                if (!f.equals("rules") || t != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    expect(p.nextToken(), JsonToken.START_ARRAY);
                    List<Alert> alerts = new ArrayList<>();
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        alerts.add(alert(p));
                    }
                    out.put(key, alerts);
                }
            }
        }
        return out;
    }

    private static Alert alert(JsonParser p) throws IOException {
        Map<String, String> labels = Map.of();
        Map<String, String> annotations = Map.of();
        String state = "pending";
        double value = 0;
        long activeAt = 0;
        long firedAt = 0;
        long resolvedAt = 0;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            p.nextToken();
            switch (f) {
                case "labels" -> labels = strings(p, true);
                case "annotations" -> annotations = strings(p, false);
                case "state" -> state = p.getText();
                case "value" -> value = p.getValueAsDouble();
                case "activeAt" -> activeAt = p.getLongValue();
                case "firedAt" -> firedAt = p.getLongValue();
                case "resolvedAt" -> resolvedAt = p.getLongValue();
                default -> p.skipChildren();
            }
        }
        Alert a = new Alert(labels, annotations, Alert.State.valueOf(state.toUpperCase(java.util.Locale.ROOT)), value, activeAt);
        a.firedAt = firedAt;
        a.resolvedAt = resolvedAt;
        return a;
    }

    private static Map<String, String> strings(JsonParser p, boolean sorted) throws IOException {
        Map<String, String> m = sorted ? new TreeMap<>() : new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            p.nextToken();
            m.put(k, p.getText());
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private static void expect(JsonToken got, JsonToken want) throws IOException {
        if (got != want) {
            throw new IOException("state file: expected " + want + ", found " + got);
        }
    }
}
