package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.signalbox.api.MessageType;

class RoutingTableTest {
    private static final ChannelExecutor EXECUTOR = new ChannelExecutor(1);
    private final Map<String, Channel> channels = new HashMap<>();

    private RoutingTable table(RouteDefinition... routes) {
        return new RoutingTable(List.of(routes),
                name -> channels.computeIfAbsent(name, n -> new Channel(n, TestSupport::settings, null, null, EXECUTOR)));
    }

    private static RouteDefinition route(String name, String source, Set<MessageType> types, int priority,
            boolean global, String... backends) {
        return new RouteDefinition(name, source, List.of(backends), types, true, priority, global);
    }

    /** Backend name → type mask, in target order. */
    private static Map<String, Integer> targets(RoutingTable t, String source) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (RoutingTable.Target target : t.resolve(source).targets) {
            out.put(target.channel().name(), target.typeMask());
        }
        return out;
    }

    private static int mask(MessageType... types) {
        int m = 0;
        for (MessageType t : types) {
            m |= 1 << t.ordinal();
        }
        return m;
    }

    @Test
    void exactAndGlobRoutesBothApplyAndDefaultOnlyWhenNothingElseMatched() {
        RoutingTable t = table(RouteDefinition.of("exact", "queue-mail", "a"), RouteDefinition.of("glob", "queue-*", "b"),
                RouteDefinition.of("fallback", "default", "c"));
        assertThat(targets(t, "queue-mail")).containsOnlyKeys("a", "b");
        assertThat(targets(t, "queue-sms")).containsOnlyKeys("b");
        assertThat(targets(t, "web")).containsOnlyKeys("c");
    }

    @Test
    void globalRoutesApplyToEverySourceInAdditionToDefaultAndMatches() {
        RoutingTable t = table(RouteDefinition.of("billing", "billing", "db"),
                route("audit", null, Set.of(), 0, true, "audit"), RouteDefinition.of("fallback", "default", "files"));
        assertThat(targets(t, "billing")).containsOnlyKeys("db", "audit");
        assertThat(targets(t, "other")).containsOnlyKeys("files", "audit");
    }

    @Test
    void globalRouteDoesNotSuppressTheDefaultRoute() {
        RoutingTable t = table(route("audit", null, Set.of(), 0, true, "audit"),
                RouteDefinition.of("fallback", "default", "files"));
        assertThat(targets(t, "x")).containsOnlyKeys("files", "audit");
    }

    @Test
    void routesAreAppliedInPriorityOrderHigherFirst() {
        RoutingTable t = table(route("low", "svc-*", Set.of(), 1, false, "low"),
                route("high", "svc-a", Set.of(), 10, false, "high"), route("mid", "*", Set.of(), 5, false, "mid"));
        assertThat(new ArrayList<>(targets(t, "svc-a").keySet())).containsExactly("high", "mid", "low");
        assertThat(t.resolve("svc-a").routeNames).containsExactly("high", "mid", "low");
    }

    @Test
    void aBackendNamedByTwoRoutesAppearsOnceWithTheUnionOfTheirTypes() {
        RoutingTable t = table(route("events", "web", Set.of(MessageType.EVENT), 0, false, "files", "db"),
                route("spans", "web", Set.of(MessageType.SPAN), 0, false, "files"));
        Map<String, Integer> targets = targets(t, "web");
        assertThat(targets).containsOnlyKeys("files", "db");
        assertThat(targets.get("files")).isEqualTo(mask(MessageType.EVENT, MessageType.SPAN));
        assertThat(targets.get("db")).isEqualTo(mask(MessageType.EVENT));
        assertThat(t.resolve("web").typeMask).isEqualTo(mask(MessageType.EVENT, MessageType.SPAN));
    }

    @Test
    void disabledRoutesDoNotApplyButStillCountAsConfigured() {
        RouteDefinition off = new RouteDefinition("off", "web", List.of("files"), Set.of(), false, 0, false);
        RoutingTable t = table(off, RouteDefinition.of("fallback", "default", "other"));
        assertThat(targets(t, "web")).containsOnlyKeys("other");
        assertThat(t.size()).isEqualTo(2);
        assertThat(table(off).isEmpty()).isFalse();
        assertThat(table(off).resolve("web").targets).isEmpty();
    }

    @Test
    void resolutionIsCachedPerTableAndANewTableResolvesAfresh() {
        RoutingTable first = table(RouteDefinition.of("r", "web", "a"));
        assertThat(first.resolve("web")).isSameAs(first.resolve("web"));
        RoutingTable second = table(RouteDefinition.of("r", "web", "b"));
        assertThat(targets(second, "web")).containsOnlyKeys("b");
        assertThat(targets(first, "web")).containsOnlyKeys("a");
    }

    @Test
    void channelsExistForEveryBackendOfEnabledRoutesAsSoonAsTheTableIsBuilt() {
        table(RouteDefinition.of("r", "web", "a", "b"));
        assertThat(channels).containsOnlyKeys("a", "b");
    }
}
