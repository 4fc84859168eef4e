package io.signalbox.api;

import java.util.List;
import java.util.Set;

/**
 * One route in force, as the router applies it.
 *
 * @param name     the route's name
 * @param source   the source name, glob or {@code default} it matches ({@code *} for a global route)
 * @param backends backend names, in configured order
 * @param types    message types it takes (wire names; every type if the route names none)
 * @param enabled  whether it applies
 * @param priority higher first
 * @param global   applies to every source in addition to its other routes
 * @param origin   where it came from: a configuration file, a YAML file, or {@code code}
 */
public record RouteInfo(String name, String source, List<String> backends, Set<String> types, boolean enabled,
        int priority, boolean global, String origin) {
    public RouteInfo {
        backends = List.copyOf(backends);
        types = Set.copyOf(types);
    }
}
