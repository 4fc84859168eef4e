package io.signalbox.routing.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendNames;
import io.signalbox.api.MessageType;

/**
 * One route, from one factory configuration {@code etc/io.signalbox.route-<name>.cfg}: an
 * immutable, validated value registered as a service for the {@link RoutingEngine}.
 *
 * <p>The configuration is validated in the constructor. An invalid one is logged at ERROR
 * with its PID, file and reason; the engine ignores it (it is not applied and does not count
 * as a configured route) until the file is fixed.
 */
@Component(service = RouteDefinition.class, configurationPid = RouteDefinition.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RouteDefinition.Config.class, factory = true)
public final class RouteDefinition {
    /** Factory PID of route configurations. */
    public static final String FACTORY_PID = "io.signalbox.route";

    /** The {@code source} value that means "every source no other route takes". */
    public static final String DEFAULT_SOURCE = "default";

    /** Optional explicit route name property. */
    public static final String NAME = "name";

    private static final Logger LOG = LoggerFactory.getLogger(RouteDefinition.class);
    private static final int ALL_TYPES = (1 << MessageType.values().length) - 1;

    @ObjectClassDefinition(name = "Signalbox route",
            description = "Sends the messages of matching sources to named backends.")
    public @interface Config {
        @AttributeDefinition(description = "Exact source name, glob with * and ? (queue-*), or default "
                + "(sources no other route takes). Ignored for global routes.", required = false)
        String source() default "";

        @AttributeDefinition(description = "Backend instance names (the -<name> part of their config file).")
        String[] backends() default {};

        @AttributeDefinition(description = "Only these message types (event, metric, progress, resource, span, "
                + "heartbeat, hello, goodbye); empty = all.", required = false)
        String[] types() default {};

        @AttributeDefinition(description = "A disabled route is ignored.", required = false)
        boolean enabled() default true;

        @AttributeDefinition(description = "Higher priority routes are applied first.", required = false)
        int priority() default 0;

        @AttributeDefinition(description = "Applies to every source, in addition to its other routes.", required = false)
        boolean global() default false;

        @AttributeDefinition(description = "Route name; default: the -<name> part of the config file.", required = false)
        String name() default "";
    }

    private final String name;
    private final SourcePattern source;
    private final List<String> backends;
    private final Set<MessageType> types;
    private final int typeMask;
    private final boolean enabled;
    private final int priority;
    private final boolean global;
    private final String invalidReason;

    /**
     * DS: validates the configuration. An invalid one is logged at ERROR with the reason and
     * kept as an {@linkplain #invalidReason() invalid} route that the engine ignores (throwing
     * instead would make SCR log a second, 70-line stack trace for a typo in a file).
     */
    @Activate
    public RouteDefinition(Config config, Map<String, Object> properties) {
        String where = describe(properties);
        String n = null;
        boolean g = false;
        SourcePattern src = null;
        List<String> bs = List.of();
        Set<MessageType> ts = Set.of();
        boolean en = false;
        int pr = 0;
        String invalid = null;
        try {
            n = nameOf(config.name(), properties);
            g = config.global();
            src = g ? SourcePattern.ANY : SourcePattern.parse(config.source());
            bs = parseBackends(config.backends());
            ts = parseTypes(config.types());
            en = config.enabled();
            pr = config.priority();
        } catch (RuntimeException e) { // IllegalArgumentException of ours, or a value SCR could not convert
            invalid = e.getMessage();
            LOG.error("invalid route configuration {}: {}; the route is not applied until the file is fixed",
                    where, invalid);
        }
        this.name = n != null ? n : where;
        this.global = g;
        this.source = src;
        this.backends = bs;
        this.types = ts;
        this.typeMask = mask(ts);
        this.invalidReason = invalid;
        this.enabled = invalid == null && en;
        this.priority = pr;
        if (invalid == null) {
            LOG.info("route {} configured: {}", name, this);
        }
    }

    /**
     * For tests and benchmarks: a route built in code.
     *
     * @throws IllegalArgumentException if the source or the backends are not usable
     */
    public RouteDefinition(String name, String source, List<String> backends, Set<MessageType> types, boolean enabled,
            int priority, boolean global) {
        this.name = name;
        this.global = global;
        this.source = global ? SourcePattern.ANY : SourcePattern.parse(source);
        this.backends = parseBackends(backends.toArray(new String[0]));
        this.types = types.isEmpty() ? Collections.unmodifiableSet(EnumSet.allOf(MessageType.class))
                : Collections.unmodifiableSet(EnumSet.copyOf(types));
        this.typeMask = mask(this.types);
        this.enabled = enabled;
        this.priority = priority;
        this.invalidReason = null;
    }

    /** For tests and benchmarks: an enabled route of priority 0 for every type. */
    public static RouteDefinition of(String name, String source, String... backends) {
        return new RouteDefinition(name, source, List.of(backends), Set.of(), true, 0, false);
    }

    public String name() {
        return name;
    }

    /** Why the configuration is invalid, or {@code null} if it is valid; invalid routes are ignored. */
    public String invalidReason() {
        return invalidReason;
    }

    SourcePattern source() {
        return source;
    }

    /** Backend names, in configured order, without duplicates. */
    public List<String> backends() {
        return backends;
    }

    /** The message types this route takes (every type if none were configured). */
    public Set<MessageType> types() {
        return types;
    }

    public boolean enabled() {
        return enabled;
    }

    public int priority() {
        return priority;
    }

    public boolean global() {
        return global;
    }

    /** Bit {@code 1 << type.ordinal()} is set for every type this route takes. */
    int typeMask() {
        return typeMask;
    }

    boolean accepts(MessageType type) {
        return (typeMask & (1 << type.ordinal())) != 0;
    }

    @Override
    public String toString() {
        if (invalidReason != null) {
            return "invalid: " + invalidReason;
        }
        return "source=" + (global ? "(global)" : source.toString()) + " backends=" + backends
                + " types=" + (typeMask == ALL_TYPES ? "all" : wireNames(types))
                + " priority=" + priority + (enabled ? "" : " (disabled)");
    }

    // --- parsing -------------------------------------------------------------------------

    private static String nameOf(String explicit, Map<String, Object> properties) {
        if (explicit != null && !unquote(explicit).isEmpty()) {
            return unquote(explicit);
        }
        Map<String, Object> naming = new HashMap<>();
        copy(properties, naming, "service.pid");
        copy(properties, naming, BackendNames.FILEINSTALL_FILENAME);
        String derived = BackendNames.of(naming);
        if (derived != null) {
            return derived;
        }
        Object pid = properties.get("service.pid");
        if (pid != null) {
            return pid.toString();
        }
        throw new IllegalArgumentException("no route name: set 'name' or use a file etc/" + FACTORY_PID + "-<name>.cfg");
    }

    private static void copy(Map<String, Object> from, Map<String, Object> to, String key) {
        Object v = from.get(key);
        if (v != null) {
            to.put(key, v);
        }
    }

    /**
     * Splits list elements at commas too, so {@code backends=a,b} works like {@code ["a","b"]}.
     * A value that arrives as the literal text {@code ["a","b"]} (fileinstall reads a whole
     * file as plain text when one of its values is not in the typed syntax) is unpacked too.
     */
    private static List<String> split(String[] values) {
        List<String> out = new ArrayList<>();
        if (values == null) {
            return out;
        }
        for (String v : values) {
            if (v == null) {
                continue;
            }
            String list = v.trim();
            if (list.length() >= 2 && list.charAt(0) == '[' && list.charAt(list.length() - 1) == ']') {
                list = list.substring(1, list.length() - 1);
            }
            for (String part : list.split(",")) {
                String t = unquote(part);
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /** Trims, and removes one pair of surrounding double quotes (plain-text {@code "default"}). */
    static String unquote(String value) {
        String t = value.trim();
        if (t.length() >= 2 && t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"') {
            t = t.substring(1, t.length() - 1).trim();
        }
        return t;
    }

    private static List<String> parseBackends(String[] values) {
        List<String> names = split(values);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("'backends' is required and must name at least one backend, "
                    + "e.g. backends=[\"files\"]");
        }
        return List.copyOf(new LinkedHashSet<>(names));
    }

    private static Set<MessageType> parseTypes(String[] values) {
        List<String> names = split(values);
        if (names.isEmpty()) {
            return Collections.unmodifiableSet(EnumSet.allOf(MessageType.class));
        }
        EnumSet<MessageType> set = EnumSet.noneOf(MessageType.class);
        for (String n : names) {
            MessageType t = MessageType.fromWireName(n);
            if (t == null) {
                throw new IllegalArgumentException("'types' contains unknown message type \"" + n + "\"; known types: "
                        + wireNames(EnumSet.allOf(MessageType.class)));
            }
            set.add(t);
        }
        return Collections.unmodifiableSet(set);
    }

    private static int mask(Set<MessageType> types) {
        int m = 0;
        for (MessageType t : types) {
            m |= 1 << t.ordinal();
        }
        return m;
    }

    private static List<String> wireNames(Set<MessageType> types) {
        List<String> names = new ArrayList<>();
        for (MessageType t : types) {
            names.add(t.wireName());
        }
        return names;
    }

    private static String describe(Map<String, Object> properties) {
        Object pid = properties.get("service.pid");
        Object file = properties.get(BackendNames.FILEINSTALL_FILENAME);
        return (pid == null ? "(no pid)" : pid.toString()) + (file == null ? "" : " (file " + file + ")");
    }
}
