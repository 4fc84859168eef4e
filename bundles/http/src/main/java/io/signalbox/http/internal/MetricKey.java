package io.signalbox.http.internal;

import java.util.ArrayList;
import java.util.List;

import io.prometheus.metrics.model.snapshots.PrometheusNaming;

/**
 * A {@code StatsSource} key taken apart for /metrics: {@code name} or {@code name{k="v",…}} with
 * Prometheus' classic (legacy) name rules, label values unescaped ({@code \\}, {@code \"},
 * {@code \n}); the exposition writer escapes them again.
 *
 * @param name        the series name, e.g. {@code signalbox_buffer_size}
 * @param labelNames  label names in key order
 * @param labelValues their values, same order
 */
record MetricKey(String name, List<String> labelNames, List<String> labelValues) {

    /** Thrown by {@link #parse} with the reason a key is not usable. */
    static final class BadKey extends Exception {
        private static final long serialVersionUID = 1L;

        BadKey(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The parsed key; throws {@link BadKey} with the reason if it is malformed or a name is invalid. */
    static MetricKey parse(String key) throws BadKey {
        if (key == null || key.isEmpty()) {
            throw new BadKey("empty key");
        }
        int brace = key.indexOf('{');
        String name = brace < 0 ? key : key.substring(0, brace);
        if (!PrometheusNaming.isValidLegacyMetricName(name)) {
            throw new BadKey("invalid metric name '" + name + "'");
        }
        if (brace < 0) {
            return new MetricKey(name, List.of(), List.of());
        }
        int end = key.length() - 1;
        if (key.charAt(end) != '}') {
            throw new BadKey("labels not closed by '}'");
        }
        List<String> names = new ArrayList<>(4);
        List<String> values = new ArrayList<>(4);
        StringBuilder value = new StringBuilder();
        int i = brace + 1;
        while (i < end) {
            int eq = key.indexOf('=', i);
            if (eq < 0 || eq >= end || eq + 1 >= end || key.charAt(eq + 1) != '"') {
                throw new BadKey("label without =\"value\"");
            }
            String label = key.substring(i, eq);
            if (!PrometheusNaming.isValidLegacyLabelName(label) || label.startsWith("__")) {
                throw new BadKey("invalid label name '" + label + "'");
            }
            if (names.contains(label)) {
                throw new BadKey("label '" + label + "' twice");
            }
            value.setLength(0);
            int j = eq + 2;
            boolean closed = false;
            for (; j < end; j++) {
                char c = key.charAt(j);
                if (c == '\\') {
                    if (++j >= end) {
                        break;
                    }
                    char n = key.charAt(j);
                    if (n == 'n') {
                        value.append('\n');
                    } else if (n == '\\' || n == '"') {
                        value.append(n);
                    } else {
                        throw new BadKey("invalid escape '\\" + n + "' in label '" + label + "'");
                    }
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value.append(c);
                }
            }
            if (!closed) {
                throw new BadKey("value of label '" + label + "' not closed");
            }
            names.add(label);
            values.add(value.toString());
            i = j + 1;
            if (i < end) {
                if (key.charAt(i) != ',') {
                    throw new BadKey("expected ',' after label '" + label + "'");
                }
                i++;
                if (i >= end) {
                    throw new BadKey("trailing ','");
                }
            }
        }
        return new MetricKey(name, List.copyOf(names), List.copyOf(values));
    }

    /** The value of label {@code label}, or {@code null}. */
    String label(String label) {
        int i = labelNames.indexOf(label);
        return i < 0 ? null : labelValues.get(i);
    }

    /** This key's labels without {@code label}. */
    MetricKey without(String label) {
        int i = labelNames.indexOf(label);
        if (i < 0) {
            return this;
        }
        List<String> n = new ArrayList<>(labelNames);
        List<String> v = new ArrayList<>(labelValues);
        n.remove(i);
        v.remove(i);
        return new MetricKey(name, List.copyOf(n), List.copyOf(v));
    }
}
