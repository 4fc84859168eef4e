package io.signalbox.api;

import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds the keys of a configuration that its component does not know, so that a typo such as
 * {@code fsnyc=batch} is rejected with a precise reason instead of being silently ignored.
 *
 * <p>The known keys are derived from the component's typed configuration (the
 * {@code @ObjectClassDefinition} annotation type) with the Declarative Services name mapping
 * ({@code max_line_length()} → {@code max.line.length}, {@code $_$} → {@code -}, {@code __} →
 * {@code _}). Keys set by the framework, Config Admin, fileinstall and DS ({@code service.*},
 * {@code component.*}, {@code felix.fileinstall.*}, {@code objectClass}, private keys starting
 * with {@code .}) are never reported.
 */
public final class ConfigKeys {
    private static final List<String> FRAMEWORK_PREFIXES =
            List.of("service.", "component.", "felix.fileinstall.", "osgi.ds.", "objectClass", ".");

    private ConfigKeys() {
    }

    /** The property keys of a DS typed configuration. */
    public static Set<String> keysOf(Class<? extends Annotation> configType) {
        Set<String> keys = new TreeSet<>();
        for (Method m : configType.getDeclaredMethods()) {
            if (m.getParameterCount() == 0 && !m.isSynthetic()) {
                keys.add(propertyName(m.getName()));
            }
        }
        return keys;
    }

    /** DS 1.4 §112.8.2.1: method name → property name. */
    static String propertyName(String method) {
        StringBuilder sb = new StringBuilder(method.length());
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (c == '$') {
                if (method.startsWith("$_$", i)) {
                    sb.append('-');
                    i += 2;
                } else if (i + 1 < method.length() && method.charAt(i + 1) == '$') {
                    sb.append('$');
                    i++;
                }
                // a single '$' is removed
            } else if (c == '_') {
                if (i + 1 < method.length() && method.charAt(i + 1) == '_') {
                    sb.append('_');
                    i++;
                } else {
                    sb.append('.');
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Whether a key belongs to the framework, Config Admin, fileinstall or DS rather than to the component. */
    public static boolean isFrameworkKey(String key) {
        for (String prefix : FRAMEWORK_PREFIXES) {
            if (key.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** The keys of {@code properties} that are neither known nor framework keys, sorted. */
    public static List<String> unknown(Collection<String> known, Map<String, ?> properties) {
        List<String> unknown = new ArrayList<>();
        for (String key : new TreeSet<>(properties.keySet())) {
            if (!known.contains(key) && !isFrameworkKey(key)) {
                unknown.add(key);
            }
        }
        return unknown;
    }

    /**
     * A one-line reason naming every unknown key, with the nearest known key as a suggestion,
     * or {@code null} if there is none: {@code unknown key 'fsnyc' (did you mean 'fsync'?)}.
     */
    public static String unknownKeysReason(Collection<String> known, Map<String, ?> properties) {
        List<String> unknown = unknown(known, properties);
        if (unknown.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder(unknown.size() == 1 ? "unknown key " : "unknown keys ");
        for (int i = 0; i < unknown.size(); i++) {
            String key = unknown.get(i);
            sb.append(i == 0 ? "" : ", ").append('\'').append(key).append('\'');
            String near = nearest(key, known);
            if (near != null) {
                sb.append(" (did you mean '").append(near).append("'?)");
            }
        }
        sb.append("; known keys: ").append(String.join(", ", new TreeSet<>(known)));
        return sb.toString();
    }

    private static String nearest(String key, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 4) ? best : null;
    }

    /** Levenshtein distance with adjacent transpositions (optimal string alignment). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
