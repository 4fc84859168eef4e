package io.signalbox.metrics.store.internal;

import java.io.IOException;
import java.util.SortedMap;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * The payload of a {@code metric} message ({@code data: {name, value, unit?, tags?}}), read from
 * the canonical line. The protocol decoder has validated the envelope, not the payload: a payload
 * without a name or a numeric value is {@link #parse rejected} with the reason.
 */
record MetricLine(String name, double value, String unit, SortedMap<String, String> tags) {
    private static final JsonFactory JSON = new JsonFactory();

    /** Thrown for a payload that cannot be stored. */
    static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String reason) {
            super(reason, null, false, false);
        }
    }

    static MetricLine parse(byte[] line) throws Invalid {
        try (JsonParser p = JSON.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new Invalid("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                JsonToken t = p.nextToken();
                if (f.equals("data") && t == JsonToken.START_OBJECT) {
                    return data(p);
                }
                p.skipChildren();
            }
            throw new Invalid("no data object");
        } catch (IOException e) {
            throw new Invalid("malformed JSON: " + e.getMessage());
        }
    }

    private static MetricLine data(JsonParser p) throws IOException, Invalid {
        String name = null;
        Double value = null;
        String unit = null;
        SortedMap<String, String> tags = new TreeMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            JsonToken t = p.nextToken();
            switch (f) {
                case "name" -> name = t == JsonToken.VALUE_STRING ? p.getText() : null;
                case "value" -> value = t.isNumeric() ? p.getDoubleValue() : null;
                case "unit" -> unit = t == JsonToken.VALUE_STRING ? p.getText() : null;
                case "tags" -> {
                    if (t == JsonToken.START_OBJECT) {
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String k = p.currentName();
                            JsonToken vt = p.nextToken();
                            if (vt.isScalarValue() && vt != JsonToken.VALUE_NULL) {
                                tags.put(k, p.getText());
                            } else {
                                p.skipChildren();
                            }
                        }
                    } else {
                        p.skipChildren();
                    }
                }
                default -> p.skipChildren();
            }
        }
        if (name == null || name.isEmpty()) {
            throw new Invalid("data.name missing or not a string");
        }
        if (value == null) {
            throw new Invalid("data.value missing or not a number");
        }
        return new MetricLine(name, value, unit, tags);
    }
}
