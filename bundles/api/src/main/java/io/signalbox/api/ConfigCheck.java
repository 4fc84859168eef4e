package io.signalbox.api;

import java.lang.annotation.Annotation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;

/**
 * Validates a component's configuration as a whole before it takes effect: unknown keys (with
 * did-you-mean, {@link ConfigKeys}), values that do not convert to their typed attribute, then
 * the component's own checks ({@link ConfigValues}).
 *
 * <p>One policy for every Signalbox component (docs/architecture.md): a rejected configuration
 * is logged once at ERROR and counted ({@link #rejection}, shown in {@code /health}'s
 * {@code config_errors}). At activation ({@link #activate}) the component then throws
 * {@link Rejected}: DS does not activate it, so it registers nothing (no listener, no backend
 * service with settings nobody asked for), and tries again when the configuration changes. On a
 * modification ({@link #modify}) the configuration in force stays.
 */
public final class ConfigCheck {
    private ConfigCheck() {
    }

    /** A rejected configuration; its message is the whole reason, so it carries no stack trace. */
    public static final class Rejected extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public Rejected(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /**
     * Unknown keys and values of the wrong type, or {@code null} if there are none.
     *
     * @param type       the typed configuration (the {@code @ObjectClassDefinition} annotation type)
     * @param config     the instance DS (or a test's converter) made from {@code properties}
     * @param properties the raw configuration properties
     */
    public static <A extends Annotation> String keysAndTypes(Class<A> type, A config, Map<String, ?> properties) {
        String unknown = ConfigKeys.unknownKeysReason(ConfigKeys.keysOf(type), properties);
        if (unknown != null) {
            return unknown;
        }
        List<String> bad = new ArrayList<>();
        Method[] methods = type.getDeclaredMethods();
        Arrays.sort(methods, Comparator.comparing(Method::getName));
        for (Method m : methods) {
            if (m.getParameterCount() != 0 || m.isSynthetic()) {
                continue;
            }
            String key = key(m.getName());
            if ((m.getReturnType() == boolean.class || m.getReturnType() == Boolean.class) && !isBoolean(properties.get(key))) {
                // the converter reads any text but "true" as false: a typo would silently switch a feature off
                bad.add("'" + key + "' = '" + properties.get(key) + "' is not a valid boolean (true, false)");
                continue;
            }
            try {
                m.invoke(config);
            } catch (InvocationTargetException | RuntimeException e) {
                Throwable cause = e instanceof InvocationTargetException ? e.getCause() : e;
                bad.add("'" + key + "' = '" + properties.get(key) + "' is not a valid "
                        + m.getReturnType().getSimpleName() + " (" + cause.getClass().getSimpleName()
                        + (cause.getMessage() != null ? ": " + cause.getMessage() : "") + ")");
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read configuration attribute " + m.getName(), e);
            }
        }
        return bad.isEmpty() ? null : String.join("; ", bad);
    }

    /**
     * The settings of a component being activated, or — if {@code settings} throws
     * {@link IllegalArgumentException} with the reason — the rejection logged at ERROR, counted,
     * and thrown as {@link Rejected} so that DS does not activate the component.
     */
    public static <S> S activate(Logger log, String pid, Map<String, ?> properties, Supplier<S> settings) {
        try {
            return settings.get();
        } catch (IllegalArgumentException e) {
            String message = rejection(pid, properties, e.getMessage());
            log.error("{}", message);
            throw new Rejected(message);
        }
    }

    /**
     * The settings of a modified configuration, or {@code null} after logging (ERROR) and counting
     * the rejection and that {@code inForce} (its description) stays in force.
     */
    public static <S> S modify(Logger log, String pid, Map<String, ?> properties, Supplier<S> settings,
            Object inForce) {
        try {
            return settings.get();
        } catch (IllegalArgumentException e) {
            log.error("{}; the previous configuration stays in force ({})", rejection(pid, properties, e.getMessage()),
                    inForce);
            return null;
        }
    }

    /** Absent, a Boolean, or the text true/false in any case (what the converter reads correctly). */
    private static boolean isBoolean(Object value) {
        if (value == null || value instanceof Boolean) {
            return true;
        }
        if (value instanceof boolean[] || value instanceof Boolean[]) {
            return true;
        }
        String t = value.toString();
        return t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false");
    }

    private static String key(String method) {
        return ConfigKeys.propertyName(method);
    }

    /**
     * {@code configuration <pid> (<file>) rejected: <reason>}; also remembered as the
     * {@link #lastRejection() last rejection} and counted, for /health and /metrics. Call it only
     * when a configuration is actually rejected.
     */
    public static String rejection(String pid, Map<String, ?> properties, String reason) {
        Object servicePid = properties.get("service.pid");
        Object file = properties.get(BackendNames.FILEINSTALL_FILENAME);
        String message = printable("configuration " + (servicePid != null ? servicePid : pid)
                + (file != null ? " (" + file + ")" : "") + " rejected: " + reason);
        LAST.set(new Rejection(System.currentTimeMillis(), String.valueOf(servicePid != null ? servicePid : pid), message));
        COUNT.increment();
        return message;
    }

    /**
     * {@code text} with control characters (a NUL or a BEL in a key of a config file, a newline that
     * would forge a log line) written as {@code \\uXXXX}: what is logged and shown is one clean line.
     */
    static String printable(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c)) {
                if (b == null) {
                    b = new StringBuilder(text.length() + 16).append(text, 0, i);
                }
                b.append(String.format("\\u%04x", (int) c));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? text : b.toString();
    }

    /**
     * A rejected configuration.
     *
     * @param epochMillis when
     * @param pid         the configuration's PID
     * @param message     what was logged
     */
    public record Rejection(long epochMillis, String pid, String message) {
    }

    private static final java.util.concurrent.atomic.AtomicReference<Rejection> LAST =
            new java.util.concurrent.atomic.AtomicReference<>();
    private static final java.util.concurrent.atomic.LongAdder COUNT = new java.util.concurrent.atomic.LongAdder();

    /** The most recent rejection in this process by any bundle, if any. */
    public static java.util.Optional<Rejection> lastRejection() {
        return java.util.Optional.ofNullable(LAST.get());
    }

    /** Configurations rejected in this process so far. */
    public static long rejectionCount() {
        return COUNT.sum();
    }
}
