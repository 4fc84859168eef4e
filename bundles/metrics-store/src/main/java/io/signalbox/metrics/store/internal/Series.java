package io.signalbox.metrics.store.internal;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One stored series: metric name + source + tags identify it; the unit is metadata. Its PromQL
 * labels are {@code __name__}, {@code source} and the tags; a tag whose name is not a valid
 * Prometheus label name or collides with those two is exposed as {@code tag_<name with _ for
 * invalid characters>}.
 */
record Series(int id, String name, String source, SortedMap<String, String> tags, String unit, Map<String, String> labels) {

    static Series of(int id, String name, String source, SortedMap<String, String> tags, String unit) {
        return new Series(id, name, source, tags, unit, labelsOf(name, source, tags));
    }

    /** The identity of a series as text (also its unique key in the table). */
    static String key(String name, String source, SortedMap<String, String> tags) {
        StringBuilder sb = new StringBuilder(name.length() + source.length() + 16);
        sb.append(name).append('\u0000').append(source);
        tags.forEach((k, v) -> sb.append('\u0000').append(k).append('\u0001').append(v));
        return sb.toString();
    }

    static Map<String, String> labelsOf(String name, String source, SortedMap<String, String> tags) {
        TreeMap<String, String> l = new TreeMap<>();
        tags.forEach((k, v) -> l.put(labelName(k), v));
        l.put("__name__", name);
        l.put("source", source);
        return Collections.unmodifiableMap(l);
    }

    static String labelName(String tag) {
        boolean valid = !tag.isEmpty() && !tag.startsWith("__");
        for (int i = 0; i < tag.length() && valid; i++) {
            char c = tag.charAt(i);
            valid = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
        }
        if (valid && !tag.equals("source")) {
            return tag;
        }
        StringBuilder sb = new StringBuilder("tag_");
        for (int i = 0; i < tag.length(); i++) {
            char c = tag.charAt(i);
            sb.append(Character.isLetterOrDigit(c) && c < 128 ? c : '_');
        }
        return sb.toString();
    }
}
