package io.signalbox.routing.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import io.signalbox.api.MessageType;

/**
 * The routes in force: immutable, rebuilt on every route change and swapped atomically by the
 * engine. Resolving a source (which routes apply, which channels and types they give) happens
 * once per source and table; the result is cached, and the cache goes with the table.
 *
 * <p>Semantics: every enabled non-global route whose source (exact name or glob) matches
 * applies; {@code default} routes apply only if none of those matched; global routes always
 * apply. Routes are taken by priority (higher first, then by name); each backend appears once
 * in the result, with the union of the types of every route that sends to it, so a message
 * reaches a backend at most once.
 */
final class RoutingTable {
    /** Above this many distinct sources, results are computed but no longer cached. */
    static final int MAX_CACHED_SOURCES = 65_536;

    static final int ALL_TYPES = (1 << MessageType.values().length) - 1;

    /** Where a source's messages go: one channel and the types it takes. */
    record Target(Channel channel, int typeMask) {
    }

    /** The resolved routing of one source. */
    static final class Resolved {
        final Target[] targets;
        /** Types at least one target takes; the others are unrouted. */
        final int typeMask;
        final List<String> routeNames;

        Resolved(Target[] targets, int typeMask, List<String> routeNames) {
            this.targets = targets;
            this.typeMask = typeMask;
            this.routeNames = routeNames;
        }
    }

    static final Comparator<RouteDefinition> ORDER = Comparator.comparingInt(RouteDefinition::priority).reversed()
            .thenComparing(RouteDefinition::name);

    private final List<RouteDefinition> all;
    private final List<RouteDefinition> active;
    private final Set<String> backendNames;
    private final Function<String, Channel> channels;
    private final ConcurrentHashMap<String, Resolved> cache = new ConcurrentHashMap<>();

    /**
     * @param routes   every configured route, enabled or not
     * @param channels the channel of a backend name (created on demand, never removed)
     */
    RoutingTable(List<RouteDefinition> routes, Function<String, Channel> channels) {
        List<RouteDefinition> sorted = new ArrayList<>(routes);
        sorted.sort(ORDER);
        this.all = List.copyOf(sorted);
        List<RouteDefinition> enabled = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (RouteDefinition r : sorted) {
            if (r.enabled()) {
                enabled.add(r);
                names.addAll(r.backends());
            }
        }
        this.active = List.copyOf(enabled);
        this.backendNames = Set.copyOf(names);
        this.channels = channels;
        for (String name : names) {
            channels.apply(name); // so a route to an absent backend shows as waiting at once
        }
    }

    /** Whether no route is configured at all (enabled or not): batches are held then. */
    boolean isEmpty() {
        return all.isEmpty();
    }

    /** Number of configured routes, enabled or not. */
    int size() {
        return all.size();
    }

    List<RouteDefinition> routes() {
        return all;
    }

    /** Backend names the enabled routes send to. */
    Set<String> backendNames() {
        return backendNames;
    }

    /** The routing of {@code source}; cached per table. */
    Resolved resolve(String source) {
        Resolved r = cache.get(source);
        if (r == null) {
            r = compute(source);
            if (cache.size() < MAX_CACHED_SOURCES) {
                cache.putIfAbsent(source, r);
            }
        }
        return r;
    }

    private Resolved compute(String source) {
        List<RouteDefinition> applying = new ArrayList<>();
        boolean specificMatched = false;
        for (RouteDefinition r : active) {
            if (!r.global() && !r.source().isDefault() && r.source().matches(source)) {
                specificMatched = true;
                break;
            }
        }
        for (RouteDefinition r : active) {
            if (r.global()) {
                applying.add(r);
            } else if (r.source().isDefault()) {
                if (!specificMatched) {
                    applying.add(r);
                }
            } else if (r.source().matches(source)) {
                applying.add(r);
            }
        }
        // active is already in priority order, so applying is too
        Map<String, Integer> masks = new LinkedHashMap<>();
        List<String> routeNames = new ArrayList<>(applying.size());
        for (RouteDefinition r : applying) {
            routeNames.add(r.name());
            int m = r.typeMask();
            for (String b : r.backends()) {
                masks.merge(b, m, (a, c) -> a | c);
            }
        }
        Target[] targets = new Target[masks.size()];
        int union = 0;
        int i = 0;
        for (Map.Entry<String, Integer> e : masks.entrySet()) {
            targets[i++] = new Target(channels.apply(e.getKey()), e.getValue());
            union |= e.getValue();
        }
        return new Resolved(targets, union, List.copyOf(routeNames));
    }
}
