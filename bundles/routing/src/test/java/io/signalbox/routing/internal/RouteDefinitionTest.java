package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        assertThatThrownBy(() -> route(Map.of("source", "billing")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("io.signalbox.route-billing.cfg")
                .hasMessageContaining("'backends' is required");
        assertThatThrownBy(() -> route(Map.of("source", "billing", "backends", " , ")))
                .hasMessageContaining("'backends' is required");
    }

    @Test
    void routeWithUnknownTypeIsRejectedWithTheReason() {
        assertThatThrownBy(() -> route(Map.of("source", "billing", "backends", "files", "types", "event,metrics")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown message type \"metrics\"");
    }

    @Test
    void routeWithBadGlobIsRejectedWithTheReason() {
        assertThatThrownBy(() -> route(Map.of("source", "queue-[0-9]", "backends", "files")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only the wildcards * and ? are supported");
        assertThatThrownBy(() -> route(Map.of("backends", "files")))
                .hasMessageContaining("'source' is required");
    }
}
