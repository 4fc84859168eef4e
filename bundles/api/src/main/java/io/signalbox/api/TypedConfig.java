package io.signalbox.api;

import java.lang.annotation.Annotation;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A component's typed configuration (its {@code @ObjectClassDefinition} annotation type) made of
 * configuration properties the way Declarative Services makes it (DS 1.4 §112.8.2: method name →
 * property name as in {@link ConfigKeys}, the annotation's default where a key is absent), for a
 * component whose lifecycle methods live in a shared base class ({@link BackendComponent}) and so
 * cannot name the annotation type in their parameters.
 *
 * <p>Values are converted when a method is called, so a value that does not convert (e.g.
 * {@code port=seventeen} for an {@code int}) throws there — {@link ConfigValues#of}, the first
 * step of every settings record, calls each method once and reports every such value as a
 * problem ({@code 'port' = 'seventeen' is not a valid int}). Text converts to a boolean only if it
 * is {@code true} or {@code false} in any case; {@link ConfigCheck#keysAndTypes} rejects any other
 * text before it is read.
 */
public final class TypedConfig {
    private TypedConfig() {
    }

    /**
     * The typed view of {@code properties}.
     *
     * @param type an annotation type whose methods return {@code String}, {@code boolean},
     *             {@code int}, {@code long}, {@code double} or {@code String[]}
     */
    public static <A extends Annotation> A of(Class<A> type, Map<String, ?> properties) {
        Map<String, ?> values = Collections.unmodifiableMap(new HashMap<>(properties));
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, method, args) -> {
            if (method.getParameterCount() > 0 || method.getDeclaringClass() != type) {
                return switch (method.getName()) {
                    case "annotationType" -> type;
                    case "equals" -> self == args[0];
                    case "hashCode" -> System.identityHashCode(self);
                    case "toString" -> "@" + type.getName() + ConfigKeys.keysOf(type);
                    default -> throw new UnsupportedOperationException(method.getName());
                };
            }
            return value(method, values.get(ConfigKeys.propertyName(method.getName())));
        });
        return type.cast(proxy);
    }

    private static Object value(Method method, Object raw) {
        Class<?> t = method.getReturnType();
        if (raw == null) {
            return method.getDefaultValue();
        }
        if (t == String[].class) {
            return strings(raw);
        }
        Object single = first(raw);
        if (single == null) {
            return method.getDefaultValue();
        }
        if (t == String.class) {
            return single.toString();
        }
        if (t == boolean.class) {
            return single instanceof Boolean b ? b : Boolean.valueOf(single.toString().trim().toLowerCase(Locale.ROOT));
        }
        if (single instanceof Number n && !(single instanceof Double || single instanceof Float)) {
            return number(t, n.longValue(), n.toString());
        }
        String text = single.toString().trim();
        if (t == double.class) {
            return Double.valueOf(text);
        }
        return number(t, Long.parseLong(text), text);
    }

    /** {@code int} or {@code long}; an {@code int} out of range is a {@link NumberFormatException}, not a wrapped value. */
    private static Object number(Class<?> t, long v, String text) {
        if (t == long.class) {
            return v;
        }
        if (t == int.class) {
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new NumberFormatException("out of range for an int: \"" + text + "\"");
            }
            return (int) v;
        }
        if (t == double.class) {
            return (double) v;
        }
        throw new IllegalArgumentException("configuration attributes of type " + t.getSimpleName() + " are not supported");
    }

    /** The first element of an array or collection, else the value itself. */
    private static Object first(Object raw) {
        if (raw.getClass().isArray()) {
            return Array.getLength(raw) == 0 ? null : Array.get(raw, 0);
        }
        if (raw instanceof Collection<?> c) {
            return c.isEmpty() ? null : c.iterator().next();
        }
        return raw;
    }

    private static String[] strings(Object raw) {
        if (raw.getClass().isArray()) {
            String[] out = new String[Array.getLength(raw)];
            for (int i = 0; i < out.length; i++) {
                out[i] = String.valueOf(Array.get(raw, i));
            }
            return out;
        }
        if (raw instanceof Collection<?> c) {
            return c.stream().map(String::valueOf).toArray(String[]::new);
        }
        return new String[] {raw.toString()};
    }
}
