package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.backendStat;
import static io.signalbox.routing.internal.TestSupport.bind;
import static io.signalbox.routing.internal.TestSupport.events;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Channels own no threads: N backends cost the fixed channel.threads workers, and an unused channel is closed. */
class ChannelThreadsTest {
    private static final int BACKENDS = 2_000;

    @RegisterExtension
    final TestSupport.Engines engines = new TestSupport.Engines();

    private static long channelThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("signalbox-channel-")).count();
    }

    @Test
    void aRouteNamingThousandsOfBackendsCostsTheFixedWorkersAndRemovingItFreesTheChannels() {
        long before = channelThreads();
        RoutingEngine engine = engines.start("channel.threads", 3);
        List<FakeBackend> backends = new ArrayList<>();
        String[] names = new String[BACKENDS];
        for (int i = 0; i < BACKENDS; i++) {
            names[i] = "b" + i;
            if (i % 2 == 0) { // every other backend is not deployed: its channel waits (and spools)
                FakeBackend b = new FakeBackend();
                backends.add(b);
                bind(engine, names[i], b);
            }
        }
        RouteDefinition route = RouteDefinition.of("wide", "*", names);
        engine.addRoute(route);
        for (int i = 0; i < 5; i++) {
            engines.route(engine, events("svc", i * 10, 10));
        }

        engines.await(engine, "every deployed backend wrote every batch, the others spooled them", () ->
                backends.stream().allMatch(b -> b.messageCount() == 50)
                        && backendStat(engine, "signalbox_spool_messages", "b1") == 50
                        && backendStat(engine, "signalbox_spool_messages", "b" + (BACKENDS - 1)) == 50);
        assertThat(engine.registry().channelCount()).isEqualTo(BACKENDS);
        assertThat(engine.registry().workerThreads()).isLessThanOrEqualTo(3);
        assertThat(channelThreads() - before).isLessThanOrEqualTo(3);

        engine.removeRoute(route);
        ChannelRegistry registry = engine.registry();
        assertThat(registry.sweep(Set.of())).as("first sweep only marks").isZero();
        int closed = registry.sweep(Set.of());
        // the channels of deployed backends held nothing any more; those of the others keep their spools
        assertThat(closed).isEqualTo(BACKENDS / 2);
        assertThat(registry.channelCount()).isEqualTo(BACKENDS / 2);

        // a route naming a closed channel again gets a new one, and delivery goes on
        engine.addRoute(RouteDefinition.of("again", "*", "b0"));
        engines.route(engine, events("svc", 100, 10));
        engines.await(engine, "b0 wrote the new batch through a new channel", () -> backends.get(0).messageCount() == 60);
    }

    @Test
    void aBatchOfferedToAChannelClosedUnderARoutingTableIsTakenByItsNewChannel() {
        RoutingEngine engine = engines.start();
        FakeBackend b = new FakeBackend();
        bind(engine, "db", b);
        engine.addRoute(RouteDefinition.of("r", "*", "db"));
        engines.route(engine, events("svc", 0, 10));
        engines.await(engine, "first batch written", () -> b.messageCount() == 10);

        // the sweep is given a stale view (no route references db) while the table still holds the channel
        ChannelRegistry registry = engine.registry();
        registry.sweep(Set.of());
        assertThat(registry.sweep(Set.of())).isEqualTo(1);

        engines.route(engine, events("svc", 10, 10));
        engines.await(engine, "second batch written through the channel made anew", () -> b.messageCount() == 20
                && engines.delivered() == 2);
        assertThat(TestSupport.stat(engine, "signalbox_routing_rejected_messages_total")).isZero();
    }
}
