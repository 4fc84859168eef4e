package io.signalbox.http.internal;

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
 * Parses a JSON answer into maps, lists, strings, numbers, booleans and nulls (tests only), without
 * recursion and without a nesting limit: a trace's span chain may be thousands of levels deep.
 */
final class ApiTestJson {
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
            .build();

    private ApiTestJson() {
    }

    /** A JSON document as maps (insertion ordered), lists, strings, longs, doubles, booleans and nulls. */
    @SuppressWarnings("unchecked")
    static Object parse(String json) throws IOException {
        try (JsonParser p = JSON.createParser(json)) {
            Deque<Object> stack = new ArrayDeque<>();
            Deque<String> names = new ArrayDeque<>();
            Object root = null;
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                Object value;
                switch (t) {
                    case FIELD_NAME:
                        names.push(p.currentName());
                        continue;
                    case START_OBJECT:
                        value = new LinkedHashMap<String, Object>();
                        break;
                    case START_ARRAY:
                        value = new ArrayList<Object>();
                        break;
                    case END_OBJECT:
                    case END_ARRAY:
                        value = stack.pop();
                        if (stack.isEmpty()) {
                            root = value;
                        }
                        continue;
                    case VALUE_STRING:
                        value = p.getText();
                        break;
                    case VALUE_NUMBER_INT:
                        value = p.getLongValue();
                        break;
                    case VALUE_NUMBER_FLOAT:
                        value = p.getDoubleValue();
                        break;
                    case VALUE_TRUE:
                        value = Boolean.TRUE;
                        break;
                    case VALUE_FALSE:
                        value = Boolean.FALSE;
                        break;
                    default:
                        value = null;
                }
                Object parent = stack.peek();
                if (parent instanceof Map) {
                    ((Map<String, Object>) parent).put(names.pop(), value);
                } else if (parent instanceof List) {
                    ((List<Object>) parent).add(value);
                } else {
                    root = value;
                }
                if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    stack.push(value);
                }
            }
            return root;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String json) throws IOException {
        return (Map<String, Object>) parse(json);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    /** A JSON array of objects. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> objects(Object array) {
        return (List<Map<String, Object>>) array;
    }
}
