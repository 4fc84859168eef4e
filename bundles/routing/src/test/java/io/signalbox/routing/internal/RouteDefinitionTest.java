package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.osgi.util.converter.Converters;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.MessageType;

class RouteDefinitionTest {
    @RegisterExtension
    final TestSupport.Engines engines = new TestSupport.Engines();

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
        return component(config).route();
    }

    /** The message of the rejection that keeps the component from being activated. */
    private static String invalidReason(Map<String, Object> config) {
        Throwable t = catchThrowable(() -> component(config));
        assertThat(t).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("configuration io.signalbox.route.6f1c "
                        + "(file:/opt/signalbox/etc/io.signalbox.route-billing.cfg) rejected: ");
        return t.getMessage();
    }

    private final FakeBackend files = new FakeBackend();
    private final FakeBackend db = new FakeBackend();

    /** An engine with backends {@code files} and {@code db} bound and {@code route} (web → files) in force. */
    private RoutingEngine engineWith(RouteComponent route) {
        RoutingEngine engine = engines.start();
        TestSupport.bind(engine, "files", files);
        TestSupport.bind(engine, "db", db);
        engine.bindRoute(route);
        return engine;
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

    static Stream<Arguments> rejectedConfigurations() {
        return Stream.of(
                arguments(Map.of("source", "billing"), List.of("'backends' is required")),
                arguments(Map.of("source", "billing", "backends", " , "), List.of("'backends' is required")),
                arguments(Map.of("source", "billing", "backends", "files", "types", "event,metrics"),
                        List.of("unknown message type \"metrics\"")),
                arguments(Map.of("source", "queue-[0-9]", "backends", "files"),
                        List.of("only the wildcards * and ? are supported")),
                arguments(Map.of("backends", "files"), List.of("'source' is required")),
                arguments(Map.of("source", "billing", "backend", "files"),
                        List.of("unknown key 'backend' (did you mean 'backends'?)")),
                arguments(Map.of("source", "billing", "backends", "files", "priority", "high"),
                        List.of("'priority' = 'high' is not a valid int")),
                // every problem at once
                arguments(Map.of("source", "queue-[0-9]", "types", "metrics"), List.of(
                        "only the wildcards * and ? are supported", "'backends' is required",
                        "unknown message type \"metrics\"")));
    }

    @ParameterizedTest
    @MethodSource("rejectedConfigurations")
    void aRejectedRouteNamesItsReasons(Map<String, Object> config, List<String> reasons) {
        assertThat(invalidReason(config)).contains(reasons);
    }

    @Test
    void invalidModificationKeepsThePreviousRouteInForce() {
        RouteComponent c = component(Map.of("source", "web", "backends", "files"));
        RoutingEngine engine = engineWith(c);
        long rejectedBefore = ConfigCheck.rejectionCount();
        Map<String, Object> bad = props(Map.of("source", "web", "backends", "db", "typos", "event"));
        c.modified(config(bad), bad);
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejectedBefore + 1);
        assertThat(ConfigCheck.lastRejection()).get().extracting(ConfigCheck.Rejection::message).asString()
                .contains("unknown key 'typos' (did you mean 'types'?)");
        assertThat(c.route().backends()).containsExactly("files");
        engine.route(TestSupport.events("web", 0, 3), null);
        TestSupport.await("files got the batch", () -> files.messageCount() == 3);
        assertThat(db.messageCount()).isZero();
        assertThat(TestSupport.stat(engine, "signalbox_routes_configured")).isEqualTo(1);
    }

    @Test
    void validModificationSwapsTheRouteAndTheNextBatchesFollowIt() {
        RouteComponent c = component(Map.of("source", "web", "backends", "files"));
        RoutingEngine engine = engineWith(c);
        engine.route(TestSupport.events("web", 0, 2), null);
        Map<String, Object> next = props(Map.of("source", "web", "backends", "db"));
        c.modified(config(next), next);
        engine.route(TestSupport.events("web", 2, 3), null);
        TestSupport.await("db got the second batch", () -> db.messageCount() == 3);
        TestSupport.await("files got the first batch", () -> files.messageCount() == 2);
        assertThat(TestSupport.stat(engine, "signalbox_routes_configured")).isEqualTo(1);
    }

    @Test
    void rejectedConfigurationIsNotActivatedAndTheCorrectedOneIsApplied() {
        RoutingEngine engine = engines.start();
        long rejectedBefore = ConfigCheck.rejectionCount();
        assertThat(invalidReason(Map.of("source", "web", "backends", "files", "types", "metrics")))
                .contains("unknown message type \"metrics\"");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejectedBefore + 1);
        assertThat(TestSupport.stat(engine, "signalbox_routes_configured")).isZero();
        // DS activates a new component once the file is corrected
        RouteComponent fixed = component(Map.of("source", "web", "backends", "files", "types", "metric"));
        engine.bindRoute(fixed);
        assertThat(TestSupport.stat(engine, "signalbox_routes_configured")).isEqualTo(1);
        engine.unbindRoute(fixed);
        assertThat(TestSupport.stat(engine, "signalbox_routes_configured")).isZero();
    }
}
