package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.MessageType;

class RouteDefinitionTest {

    private static RouteDefinition route(Map<String, Object> config) {
        Map<String, Object> props = new HashMap<>(config);
        props.putIfAbsent("service.pid", "io.signalbox.route.6f1c");
        props.putIfAbsent("felix.fileinstall.filename", "file:/opt/signalbox/etc/io.signalbox.route-billing.cfg");
        RouteDefinition.Config c = Converters.standardConverter().convert(props).to(RouteDefinition.Config.class);
        return new RouteDefinition(c, props);
    }

    @Test
    void fullConfigurationIsReadWithItsDefaults() {
        RouteDefinition r = route(Map.of("source", "billing", "backends", new String[] { "files", "db" }));
        assertThat(r.name()).isEqualTo("billing");
        assertThat(r.backends()).containsExactly("files", "db");
        assertThat(r.types()).containsExactlyInAnyOrder(MessageType.values());
        assertThat(r.enabled()).isTrue();
        assertThat(r.priority()).isZero();
        assertThat(r.global()).isFalse();
    }

    @Test
    void commaSeparatedBackendsAndTypesAreSplitAndDeduplicated() {
        RouteDefinition r = route(Map.of("source", "queue-*", "backends", "files, db,files", "types", "event,span",
                "priority", "5", "enabled", "false"));
        assertThat(r.backends()).containsExactly("files", "db");
        assertThat(r.types()).containsExactlyInAnyOrder(MessageType.EVENT, MessageType.SPAN);
        assertThat(r.accepts(MessageType.METRIC)).isFalse();
        assertThat(r.priority()).isEqualTo(5);
        assertThat(r.enabled()).isFalse();
    }

    @Test
    void valuesThatFileinstallPassedAsPlainTextListsAreUnpacked() {
        RouteDefinition r = route(Map.of("source", "\"default\"", "backends", "[\"files\", \"db\"]",
                "types", "[\"metric\",\"event\"]"));
        assertThat(r.source().isDefault()).isTrue();
        assertThat(r.backends()).containsExactly("files", "db");
        assertThat(r.types()).containsExactlyInAnyOrder(MessageType.METRIC, MessageType.EVENT);
    }

    @Test
    void nameComesFromTheNamedFactoryPidBeforeTheFileName() {
        RouteDefinition r = route(Map.of("source", "a", "backends", "files", "service.pid", "io.signalbox.route~audit"));
        assertThat(r.name()).isEqualTo("audit");
    }

    @Test
    void globalRouteNeedsNoSource() {
        RouteDefinition r = route(Map.of("global", "true", "backends", "audit"));
        assertThat(r.global()).isTrue();
        assertThat(r.source().matches("anything")).isTrue();
    }

    @Test
    void routeWithoutBackendsIsRejectedWithTheReason() {
        RouteDefinition r = route(Map.of("source", "billing"));
        assertThat(r.invalidReason()).contains("'backends' is required");
        assertThat(r.enabled()).isFalse();
        assertThat(route(Map.of("source", "billing", "backends", " , ")).invalidReason())
                .contains("'backends' is required");
    }

    @Test
    void routeWithUnknownTypeIsRejectedWithTheReason() {
        assertThat(route(Map.of("source", "billing", "backends", "files", "types", "event,metrics")).invalidReason())
                .contains("unknown message type \"metrics\"");
    }

    @Test
    void routeWithBadGlobIsRejectedWithTheReason() {
        assertThat(route(Map.of("source", "queue-[0-9]", "backends", "files")).invalidReason())
                .contains("only the wildcards * and ? are supported");
        assertThat(route(Map.of("backends", "files")).invalidReason()).contains("'source' is required");
    }

    @Test
    void validRouteHasNoInvalidReason() {
        assertThat(route(Map.of("source", "billing", "backends", "files")).invalidReason()).isNull();
    }

    @Test
    void invalidRouteIsNotAppliedByTheEngineAndDoesNotCountAsConfigured() {
        RoutingEngine engine = TestSupport.engine();
        try {
            engine.addRoute(route(Map.of("source", "web", "backends", "files", "types", "metrics")));
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(0);
            assertThat(engine.stats()).doesNotContainKey("signalbox_channel_waiting_for_backend{backend=\"files\"}");
        } finally {
            engine.deactivate();
        }
    }
}
