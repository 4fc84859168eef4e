package io.signalbox.config.yaml.internal;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One configuration a YAML file asks for: a singleton PID ({@code factoryPid == null}) or a named
 * factory configuration ({@code factoryPid~name}, Config Admin 1.6).
 *
 * @param pid        the configuration's PID ({@code factoryPid + "~" + name} for factory ones)
 * @param factoryPid the factory PID, or {@code null} for a singleton
 * @param name       the factory configuration's name, or {@code null} for a singleton
 * @param properties the properties, in file order (values: String, Integer, Long, Double,
 *                   Boolean or arrays of them); without the file marker
 * @param where      section and line of the file it comes from, for log messages
 */
record ConfigSpec(String pid, String factoryPid, String name, Map<String, Object> properties, String where) {

    ConfigSpec {
        Objects.requireNonNull(pid, "pid");
        properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    static ConfigSpec singleton(String pid, Map<String, Object> properties, String where) {
        return new ConfigSpec(pid, null, null, properties, where);
    }

    static ConfigSpec factory(String factoryPid, String name, Map<String, Object> properties, String where) {
        return new ConfigSpec(factoryPid + "~" + name, factoryPid, name, properties, where);
    }

    boolean isSingleton() {
        return factoryPid == null;
    }

    /** Whether {@code other} holds the same keys with equal values (arrays compared by content). */
    static boolean sameProperties(Map<String, ?> a, Map<String, ?> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (Map.Entry<String, ?> e : a.entrySet()) {
            if (!b.containsKey(e.getKey())) {
                return false;
            }
            if (!Arrays.deepEquals(new Object[] { e.getValue() }, new Object[] { b.get(e.getKey()) })) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(pid).append(" {");
        boolean first = true;
        for (Map.Entry<String, Object> e : properties.entrySet()) {
            sb.append(first ? "" : ", ").append(e.getKey()).append('=');
            Object v = e.getValue();
            sb.append(v instanceof Object[] ? Arrays.toString((Object[]) v) : String.valueOf(v));
            first = false;
        }
        return sb.append('}').toString();
    }
}
