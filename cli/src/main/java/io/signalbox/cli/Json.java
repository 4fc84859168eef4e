package io.signalbox.cli;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * Reads a JSON document into maps (in document order), lists, strings, longs, doubles, booleans
 * and {@code null}, with jackson-core's streaming parser. Without recursion and without a nesting
 * limit: a trace's span tree may be thousands of levels deep.
 */
final class Json {
    static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
            .build();

    private Json() {
    }

    static Object parse(byte[] json) throws IOException {
        try (JsonParser p = FACTORY.createParser(json)) {
            return read(p);
        }
    }

    static Object parse(String json) throws IOException {
        try (JsonParser p = FACTORY.createParser(json)) {
            return read(p);
        }
    }

    @SuppressWarnings("unchecked")
    private static Object read(JsonParser p) throws IOException {
        Deque<Object> open = new ArrayDeque<>();
        Deque<String> names = new ArrayDeque<>();
        JsonToken t;
        while ((t = p.nextToken()) != null) {
            if (t == JsonToken.FIELD_NAME) {
                names.push(p.currentName());
                continue;
            }
            if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                Object done = open.pop();
                if (open.isEmpty()) {
                    return done;
                }
                continue;
            }
            boolean container = t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY;
            Object value = container ? (t == JsonToken.START_OBJECT ? new LinkedHashMap<String, Object>() : new ArrayList<Object>())
                    : scalar(t, p);
            Object parent = open.peek();
            if (parent instanceof Map) {
                ((Map<String, Object>) parent).put(names.pop(), value);
            } else if (parent instanceof List) {
                ((List<Object>) parent).add(value);
            } else if (!container) {
                return value; // a scalar document
            }
            if (container) {
                open.push(value);
            }
        }
        throw new IOException("empty or truncated JSON document");
    }

    /** The value of a scalar token: a string, a long (a double if too big), a double, a boolean or {@code null}. */
    private static Object scalar(JsonToken t, JsonParser p) throws IOException {
        return switch (t) {
            case VALUE_STRING -> p.getText();
            // (Object) on both branches: else the conditional would promote the long to a double
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? (Object) p.getDoubleValue()
                    : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            default -> null;
        };
    }

    // ---------------------------------------------------------------- typed access, forgiving

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map ? (Map<String, Object>) o : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o instanceof List ? (List<Object>) o : List.of();
    }

    static String string(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? null : v instanceof String ? (String) v : String.valueOf(v);
    }

    static long number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number ? ((Number) v).longValue() : 0;
    }

    static double decimal(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
    }

    static boolean flag(Map<String, Object> m, String key) {
        return Boolean.TRUE.equals(m.get(key));
    }
}
