package io.signalbox.http.internal;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code StatsSource} key taken apart: {@code signalbox_buffer_size{source="a b"}} → name
 * {@code signalbox_buffer_size}, labels {@code {source=a b}} (values unescaped: {@code \\},
 * {@code \"}, {@code \n}).
 *
 * @param name   the series name
 * @param labels label names to values, in key order; empty if the key has none
 */
record ApiSeries(String name, Map<String, String> labels) {

    /** The parsed key, or {@code null} if it is not {@code name} or {@code name{k="v",…}}. */
    static ApiSeries parse(String key) {
        int brace = key.indexOf('{');
        if (brace < 0) {
            return key.isEmpty() ? null : new ApiSeries(key, Map.of());
        }
        if (brace == 0 || key.charAt(key.length() - 1) != '}') {
            return null;
        }
        Map<String, String> labels = new LinkedHashMap<>();
        int i = brace + 1;
        int end = key.length() - 1;
        StringBuilder value = new StringBuilder();
        while (i < end) {
            int eq = key.indexOf('=', i);
            if (eq < 0 || eq + 1 >= end || key.charAt(eq + 1) != '"') {
                return null;
            }
            String label = key.substring(i, eq).trim();
            value.setLength(0);
            int j = eq + 2;
            boolean closed = false;
            for (; j < end; j++) {
                char c = key.charAt(j);
                if (c == '\\' && j + 1 < end) {
                    char n = key.charAt(++j);
                    value.append(n == 'n' ? '\n' : n);
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value.append(c);
                }
            }
            if (!closed || label.isEmpty()) {
                return null;
            }
            labels.put(label, value.toString());
            i = j + 1;
            if (i < end) {
                if (key.charAt(i) != ',') {
                    return null;
                }
                i++;
            }
        }
        return new ApiSeries(key.substring(0, brace), Collections.unmodifiableMap(labels));
    }
}
