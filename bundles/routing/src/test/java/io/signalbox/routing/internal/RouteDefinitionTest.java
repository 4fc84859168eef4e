package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.MessageType;

class RouteDefinitionTest {

    static Map<String, Object> props(Map<String, Object> config) {
        Map<String, Object> props = new HashMap<>(config);
        props.putIfAbsent("service.pid", "io.signalbox.route.6f1c");
        props.putIfAbsent("felix.fileinstall.filename", "file:/opt/signalbox/etc/io.signalbox.route-billing.cfg");
        return props;
    }

    static RouteComponent.Config config(Map<String, Object> props) {
        return Converters.standardConverter().convert(props).to(RouteComponent.Config.class);
    }

    static RouteComponent component(Map<String, Object> config) {
        Map<String, Object> props = props(config);
        return new RouteComponent(config(props), props);
    }

    private static RouteDefinition route(Map<String, Object> config) {
        RouteComponent c = component(config);
        assertThat(c.rejection()).isNull();
        return c.route();
    }

    private static String invalidReason(Map<String, Object> config) {
        RouteComponent c = component(config);
        assertThat(c.route()).isNull();
        return c.rejection();
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
        assertThat(invalidReason(Map.of("source", "billing"))).contains("'backends' is required");
        assertThat(invalidReason(Map.of("source", "billing", "backends", " , ")))
                .contains("'backends' is required");
    }

    @Test
    void routeWithUnknownTypeIsRejectedWithTheReason() {
        assertThat(invalidReason(Map.of("source", "billing", "backends", "files", "types", "event,metrics")))
                .contains("unknown message type \"metrics\"");
    }

    @Test
    void routeWithBadGlobIsRejectedWithTheReason() {
        assertThat(invalidReason(Map.of("source", "queue-[0-9]", "backends", "files")))
                .contains("only the wildcards * and ? are supported");
        assertThat(invalidReason(Map.of("backends", "files"))).contains("'source' is required");
    }

    @Test
    void validRouteHasNoRejection() {
        RouteComponent c = component(Map.of("source", "billing", "backends", "files"));
        assertThat(c.rejection()).isNull();
        assertThat(c.route().name()).isEqualTo("billing");
    }

    @Test
    void unknownKeyIsRejectedWithDidYouMean() {
        assertThat(invalidReason(Map.of("source", "billing", "backend", "files")))
                .contains("unknown key 'backend' (did you mean 'backends'?)");
    }

    @Test
    void wrongTypeIsRejectedWithTheKey() {
        assertThat(invalidReason(Map.of("source", "billing", "backends", "files", "priority", "high")))
                .contains("'priority' = 'high' is not a valid int");
    }

    @Test
    void invalidRouteIsNotAppliedByTheEngineAndDoesNotCountAsConfigured() {
        RoutingEngine engine = TestSupport.engine();
        try {
            engine.bindRoute(component(Map.of("source", "web", "backends", "files", "types", "metrics")));
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(0);
            assertThat(engine.stats()).doesNotContainKey("signalbox_channel_waiting_for_backend{backend=\"files\"}");
        } finally {
            engine.deactivate();
        }
    }

    @Test
    void invalidModificationKeepsThePreviousRouteInForce() {
        RoutingEngine engine = TestSupport.engine();
        FakeBackend files = new FakeBackend();
        FakeBackend db = new FakeBackend();
        TestSupport.bind(engine, "files", files);
        TestSupport.bind(engine, "db", db);
        try {
            RouteComponent c = component(Map.of("source", "web", "backends", "files"));
            engine.bindRoute(c);
            Map<String, Object> bad = props(Map.of("source", "web", "backends", "db", "typos", "event"));
            c.modified(config(bad), bad);
            assertThat(c.rejection()).contains("unknown key 'typos' (did you mean 'types'?)");
            assertThat(c.route().backends()).containsExactly("files");
            engine.route(TestSupport.events("web", 0, 3), null);
            TestSupport.await("files got the batch", () -> files.messageCount() == 3);
            assertThat(db.messageCount()).isZero();
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(1);
        } finally {
            engine.deactivate();
        }
    }

    @Test
    void validModificationSwapsTheRouteAndTheNextBatchesFollowIt() {
        RoutingEngine engine = TestSupport.engine();
        FakeBackend files = new FakeBackend();
        FakeBackend db = new FakeBackend();
        TestSupport.bind(engine, "files", files);
        TestSupport.bind(engine, "db", db);
        try {
            RouteComponent c = component(Map.of("source", "web", "backends", "files"));
            engine.bindRoute(c);
            engine.route(TestSupport.events("web", 0, 2), null);
            Map<String, Object> next = props(Map.of("source", "web", "backends", "db"));
            c.modified(config(next), next);
            engine.route(TestSupport.events("web", 2, 3), null);
            TestSupport.await("db got the second batch", () -> db.messageCount() == 3);
            TestSupport.await("files got the first batch", () -> files.messageCount() == 2);
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(1);
        } finally {
            engine.deactivate();
        }
    }

    @Test
    void firstInvalidThenCorrectedConfigurationIsApplied() {
        RoutingEngine engine = TestSupport.engine();
        try {
            RouteComponent c = component(Map.of("source", "web", "backends", "files", "types", "metrics"));
            engine.bindRoute(c);
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(0);
            Map<String, Object> fixed = props(Map.of("source", "web", "backends", "files", "types", "metric"));
            c.modified(config(fixed), fixed);
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(1);
            engine.unbindRoute(c);
            assertThat(engine.stats().get("signalbox_routes_configured")).isEqualTo(0);
        } finally {
            engine.deactivate();
        }
    }
}
