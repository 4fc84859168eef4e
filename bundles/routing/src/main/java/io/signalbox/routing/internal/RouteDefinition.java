package io.signalbox.routing.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigValues;
import io.signalbox.api.MessageType;

/**
 * One route: an immutable, validated value, parsed from a factory configuration
 * {@code etc/io.signalbox.route-<name>.cfg} by {@link RouteComponent} (or built in code by
 * tests and benchmarks).
 */
public final class RouteDefinition {
    /** Factory PID of route configurations. */
    public static final String FACTORY_PID = RouteComponent.FACTORY_PID;

    /** The {@code source} value that means "every source no other route takes". */
    public static final String DEFAULT_SOURCE = "default";

    /** Optional explicit route name property. */
    public static final String NAME = "name";

    private static final int ALL_TYPES = (1 << MessageType.values().length) - 1;

    private final String name;
    private final SourcePattern source;
    private final List<String> backends;
    private final Set<MessageType> types;
    private final int typeMask;
    private final boolean enabled;
    private final int priority;
    private final boolean global;
    /** Where it came from: a configuration file, a YAML file, or {@code code}. */
    private final String origin;

    /**
     * Checks a route configuration as a whole (unknown keys, types, then every value) and builds
     * its route.
     *
     * @throws io.signalbox.api.ConfigCheck.Rejected naming every problem
     */
    static RouteDefinition parse(RouteComponent.Config config, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(RouteComponent.Config.class, config, properties);
        String n = v.parse(() -> nameOf(config.name(), properties));
        boolean g = config.global();
        SourcePattern src = g ? SourcePattern.ANY : v.parse(() -> SourcePattern.parse(config.source()));
        List<String> bs = v.parse(() -> parseBackends(config.backends()));
        Set<MessageType> ts = v.parse(() -> parseTypes(config.types()));
        v.done();
        return new RouteDefinition(n, src, bs, ts, config.enabled(), config.priority(), g, originOf(properties));
    }

    /** The YAML file (config-yaml's marker key), else the fileinstall file, else the PID. */
    static String originOf(Map<String, ?> properties) {
        Object yaml = properties.get(".signalbox.yaml.file");
        if (yaml != null) {
            return "yaml " + yaml;
        }
        Object file = properties.get(BackendNames.FILEINSTALL_FILENAME);
        if (file != null) {
            return file.toString();
        }
        Object pid = properties.get("service.pid");
        return pid != null ? "configuration " + pid : "code";
    }

    private RouteDefinition(String name, SourcePattern source, List<String> backends, Set<MessageType> types,
            boolean enabled, int priority, boolean global, String origin) {
        this.name = name;
        this.origin = origin;
        this.global = global;
        this.source = source;
        this.backends = backends;
        this.types = types;
        this.typeMask = mask(types);
        this.enabled = enabled;
        this.priority = priority;
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
        this.origin = "code";
    }

    /** For tests and benchmarks: an enabled route of priority 0 for every type. */
    public static RouteDefinition of(String name, String source, String... backends) {
        return new RouteDefinition(name, source, List.of(backends), Set.of(), true, 0, false);
    }

    public String name() {
        return name;
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

    String origin() {
        return origin;
    }

    /** The api view of this route. */
    io.signalbox.api.RouteInfo info() {
        Set<String> wire = new java.util.LinkedHashSet<>();
        for (MessageType t : types) {
            wire.add(t.wireName());
        }
        return new io.signalbox.api.RouteInfo(name, global ? "*" : source.toString(), backends, wire, enabled, priority,
                global, origin);
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
        return "source=" + (global ? "(global)" : source.toString()) + " backends=" + backends
                + " types=" + (typeMask == ALL_TYPES ? "all" : wireNames(types))
                + " priority=" + priority + (enabled ? "" : " (disabled)");
    }

    // --- parsing -------------------------------------------------------------------------

    private static String nameOf(String explicit, Map<String, ?> properties) {
        if (explicit != null && !ConfigValues.unquote(explicit).isEmpty()) {
            return ConfigValues.unquote(explicit);
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

    private static void copy(Map<String, ?> from, Map<String, Object> to, String key) {
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
                String t = ConfigValues.unquote(part);
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return out;
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
}
