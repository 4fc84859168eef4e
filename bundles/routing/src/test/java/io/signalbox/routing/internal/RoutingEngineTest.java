package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.await;
import static io.signalbox.routing.internal.TestSupport.batch;
import static io.signalbox.routing.internal.TestSupport.bind;
import static io.signalbox.routing.internal.TestSupport.events;
import static io.signalbox.routing.internal.TestSupport.stat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

class RoutingEngineTest {
    private final List<RoutingEngine> engines = new ArrayList<>();
    private final AtomicInteger delivered = new AtomicInteger();

    private RoutingEngine engine() {
        RoutingEngine e = TestSupport.engine();
        engines.add(e);
        return e;
    }

    private RoutingEngine engine(Path spoolDir) {
        RoutingEngine e = TestSupport.engine(spoolDir);
        engines.add(e);
        return e;
    }

    @AfterEach
    void stopEngines() {
        for (RoutingEngine e : engines) {
            e.deactivate();
        }
    }

    private void route(RoutingEngine engine, Batch batch) {
        engine.route(batch, delivered::incrementAndGet);
    }

    private static List<Long> seqs(List<Message> messages) {
        List<Long> out = new ArrayList<>();
        for (Message m : messages) {
            out.add(m.timestamp());
        }
        return out;
    }

    @Test
    void engineConfigurationDefaultsAreThoseDocumented() {
        RoutingEngine.Config c = TestSupport.engineConfig(Map.of());
        assertThat(c.drain_timeout_seconds()).isEqualTo(30);
        assertThat(c.retry_initial_ms()).isEqualTo(100);
        assertThat(c.retry_max_ms()).isEqualTo(30_000);
        assertThat(c.spool_dir()).isEqualTo("data/spool");
        assertThat(c.spool_max_mb()).isEqualTo(512);
        assertThat(c.spool_segment_mb()).isEqualTo(16);
    }

    @Test
    void engineConfigurationWithAnUnknownKeyIsRejectedAndTheEngineDoesNotStart() {
        Map<String, Object> props = Map.of("service.pid", RoutingEngine.PID, "spool.max.mbs", "10");
        assertThatThrownBy(() -> new RoutingEngine(TestSupport.engineConfig(props), props))
                .hasMessageStartingWith("configuration io.signalbox.routing rejected: ")
                .hasMessageContaining("unknown key 'spool.max.mbs' (did you mean 'spool.max.mb'?)");
    }

    @Test
    void engineConfigurationWithBadTypesOrRangesIsRejectedWithEveryReason() {
        Map<String, Object> types = Map.of("retry.max.ms", "soon");
        assertThat(RoutingEngine.problems(TestSupport.engineConfig(types), types))
                .contains("'retry.max.ms' = 'soon' is not a valid long");
        Map<String, Object> ranges = Map.of("retry.initial.ms", "0", "spool.max.mb", "8", "spool.segment.mb", "16",
                "drain.timeout.seconds", "-1");
        assertThat(RoutingEngine.problems(TestSupport.engineConfig(ranges), ranges))
                .contains("drain.timeout.seconds=-1 must be at least 0")
                .contains("retry.initial.ms=0 must be at least 1")
                .contains("spool.segment.mb=16 must not be above spool.max.mb=8");
        assertThat(RoutingEngine.problems(TestSupport.engineConfig(Map.of()), Map.of())).isNull();
    }

    @Test
    void invalidEngineModificationKeepsTheConfigurationInForceAndAValidOneApplies() {
        RoutingEngine engine = engine();
        Map<String, Object> bad = Map.of("retry.initial.ms", "50", "retry.maxms", "60");
        assertThat(engine.reconfigure(TestSupport.engineConfig(bad), bad)).isFalse();
        assertThat(engine.backoffPolicyMillis()).containsExactly(5L, 20L);
        Map<String, Object> good = Map.of("retry.initial.ms", "50", "retry.max.ms", "60");
        assertThat(engine.reconfigure(TestSupport.engineConfig(good), good)).isTrue();
        assertThat(engine.backoffPolicyMillis()).containsExactly(50L, 60L);
    }

    @Test
    void batchIsSplitByTheTypesOfEachRouteAndUntakenTypesAreCountedUnrouted() {
        RoutingEngine engine = engine();
        FakeBackend events = new FakeBackend();
        FakeBackend spans = new FakeBackend();
        bind(engine, "events", events);
        bind(engine, "spans", spans);
        engine.addRoute(new RouteDefinition("e", "web", List.of("events"), Set.of(MessageType.EVENT), true, 0, false));
        engine.addRoute(new RouteDefinition("s", "web", List.of("spans"), Set.of(MessageType.SPAN), true, 0, false));

        route(engine, batch("web", MessageType.EVENT, MessageType.SPAN, MessageType.METRIC, MessageType.EVENT));

        await("both parts written", () -> delivered.get() == 1);
        assertThat(events.messages()).extracting(Message::type).containsExactly(MessageType.EVENT, MessageType.EVENT);
        assertThat(spans.messages()).extracting(Message::type).containsExactly(MessageType.SPAN);
        assertThat(stat(engine, "signalbox_messages_unrouted_total")).isEqualTo(1);
        assertThat(stat(engine, "signalbox_messages_routed_total{backend=\"events\"}")).isEqualTo(2);
        assertThat(stat(engine, "signalbox_messages_routed_total{backend=\"spans\"}")).isEqualTo(1);
    }

    @Test
    void aMessageReachesABackendOnceEvenWhenSeveralRoutesSendItThere() {
        RoutingEngine engine = engine();
        FakeBackend files = new FakeBackend();
        bind(engine, "files", files);
        engine.addRoute(RouteDefinition.of("exact", "web", "files"));
        engine.addRoute(RouteDefinition.of("glob", "w*", "files"));
        engine.addRoute(new RouteDefinition("all", null, List.of("files"), Set.of(), true, 0, true));

        Batch b = events("web", 0, 10);
        route(engine, b);

        await("delivered", () -> delivered.get() == 1);
        assertThat(files.batches()).hasSize(1);
        assertThat(files.batches().get(0)).isSameAs(b); // whole batch passed on, not copied
        assertThat(stat(engine, "signalbox_backend_batches_written_total{backend=\"files\"}")).isEqualTo(1);
    }

    @Test
    void messagesNoRouteTakesAreCountedAndTheirCallbackRunsAtOnce() {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("billing", "billing", "files"));

        route(engine, events("web", 0, 7));

        assertThat(delivered.get()).isEqualTo(1);
        assertThat(stat(engine, "signalbox_messages_unrouted_total")).isEqualTo(7);
        assertThat(stat(engine, "signalbox_batches_held")).isZero();
    }

    @Test
    void batchesAreHeldWhileNoRouteExistsAndReleasedInOrderWhenTheFirstArrives() {
        RoutingEngine engine = engine();
        FakeBackend files = new FakeBackend();
        bind(engine, "files", files);

        for (int i = 0; i < 5; i++) {
            route(engine, events("web", i * 10, 10));
        }
        assertThat(stat(engine, "signalbox_batches_held")).isEqualTo(5);
        assertThat(stat(engine, "signalbox_messages_unrouted_total")).isZero();
        assertThat(stat(engine, "signalbox_routes_configured")).isZero();
        assertThat(delivered.get()).isZero();

        engine.addRoute(RouteDefinition.of("all", "default", "files"));
        route(engine, events("web", 50, 10));

        await("all delivered", () -> delivered.get() == 6);
        assertThat(seqs(files.messages())).isSorted().hasSize(60);
        assertThat(stat(engine, "signalbox_batches_held")).isZero();
        assertThat(stat(engine, "signalbox_routes_configured")).isEqualTo(1);
    }

    @Test
    void batchesForAnAbsentBackendAreSpooledReleasedAndReplayedInOrderWhenItArrives() {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("r", "web", "late"));
        assertThat(stat(engine, "signalbox_channel_waiting_for_backend{backend=\"late\"}")).isEqualTo(1);

        for (int i = 0; i < 20; i++) {
            route(engine, events("web", i * 5, 5));
        }
        // in the spool, the callbacks ran: the absent backend holds no in-flight capacity
        await("all spooled", () -> delivered.get() == 20);
        assertThat(stat(engine, "signalbox_spool_messages{backend=\"late\"}")).isEqualTo(100);
        assertThat(stat(engine, "signalbox_spool_bytes{backend=\"late\"}")).isPositive();
        assertThat(stat(engine, "signalbox_channel_queued_messages{backend=\"late\"}")).isZero();

        FakeBackend late = new FakeBackend();
        bind(engine, "late", late);
        route(engine, events("web", 100, 5)); // live traffic after the arrival comes after the spool

        await("all written", () -> late.messageCount() == 105);
        assertThat(seqs(late.messages())).isSorted().doesNotHaveDuplicates().hasSize(105);
        assertThat(stat(engine, "signalbox_channel_waiting_for_backend{backend=\"late\"}")).isZero();
        await("spool emptied", () -> stat(engine, "signalbox_spool_messages{backend=\"late\"}") == 0);
        assertThat(stat(engine, "signalbox_spool_bytes{backend=\"late\"}")).isZero();
    }

    @Test
    void failingBackendIsRetriedWithBackoffUntilItSucceedsAndOrderIsKept() {
        RoutingEngine engine = engine();
        FakeBackend flaky = new FakeBackend().failing(3);
        bind(engine, "flaky", flaky);
        engine.addRoute(RouteDefinition.of("r", "web", "flaky"));

        route(engine, events("web", 0, 3));
        route(engine, events("web", 3, 3));

        await("both delivered", () -> delivered.get() == 2);
        assertThat(flaky.attempts()).isEqualTo(5);
        assertThat(seqs(flaky.messages())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(stat(engine, "signalbox_backend_write_failures_total{backend=\"flaky\"}")).isEqualTo(3);
        assertThat(stat(engine, "signalbox_backend_batches_written_total{backend=\"flaky\"}")).isEqualTo(2);
    }

    @Test
    void retryDelayDoublesFromInitialUpToMax() {
        Channel c = new Channel("x", new Channel.Policy() {
            @Override
            public long initialMillis() {
                return 100;
            }

            @Override
            public long maxMillis() {
                return 1000;
            }
        });
        assertThat(c.backoffMillis(0)).isEqualTo(100);
        assertThat(c.backoffMillis(1)).isEqualTo(200);
        assertThat(c.backoffMillis(3)).isEqualTo(800);
        assertThat(c.backoffMillis(4)).isEqualTo(1000);
        assertThat(c.backoffMillis(10_000)).isEqualTo(1000);
    }

    @Test
    void deliveredRunsOnlyAfterEveryChannelHasWritten() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend fast = new FakeBackend();
        FakeBackend slow = new FakeBackend().gated();
        bind(engine, "fast", fast);
        bind(engine, "slow", slow);
        engine.addRoute(RouteDefinition.of("r", "web", "fast", "slow"));

        route(engine, events("web", 0, 10));

        await("fast wrote", () -> fast.messageCount() == 10);
        assertThat(slow.awaitWriteStarted(10)).isTrue();
        assertThat(delivered.get()).isZero();

        slow.open();
        await("delivered", () -> delivered.get() == 1);
        assertThat(slow.messageCount()).isEqualTo(10);
    }

    @Test
    void slowBackendDoesNotHoldUpAnotherBackend() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend fast = new FakeBackend();
        FakeBackend slow = new FakeBackend().gated();
        bind(engine, "fast", fast);
        bind(engine, "slow", slow);
        engine.addRoute(RouteDefinition.of("r", "web", "fast", "slow"));

        for (int i = 0; i < 50; i++) {
            route(engine, events("web", i * 10, 10));
        }

        await("fast wrote everything", () -> fast.messageCount() == 500);
        assertThat(slow.awaitWriteStarted(10)).isTrue();
        assertThat(slow.messageCount()).isZero();
        assertThat(stat(engine, "signalbox_channel_queued_messages{backend=\"slow\"}")).isEqualTo(500);
        assertThat(delivered.get()).isZero();

        slow.open();
        await("all delivered", () -> delivered.get() == 50);
        assertThat(seqs(slow.messages())).isSorted().hasSize(500);
    }

    @Test
    void swappingTheTableWhileRoutingConcurrentlyLosesNothing() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend stable = new FakeBackend();
        FakeBackend extra = new FakeBackend();
        bind(engine, "stable", stable);
        bind(engine, "extra", extra);
        engine.addRoute(RouteDefinition.of("stable", "src-*", "stable"));

        int threads = 4;
        int batchesPerThread = 2_000;
        AtomicBoolean routing = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String source = "src-" + t;
            Thread p = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < batchesPerThread; i++) {
                    route(engine, events(source, i * 10, 10));
                }
            });
            p.start();
            producers.add(p);
        }
        Thread swapper = new Thread(() -> {
            int n = 0;
            while (routing.get()) {
                RouteDefinition r = new RouteDefinition("extra" + n++, "*", List.of("extra", "stable"), Set.of(), true,
                        n % 3, n % 2 == 0);
                engine.addRoute(r);
                engine.removeRoute(r);
            }
        });
        swapper.start();
        start.countDown();
        for (Thread p : producers) {
            p.join(TimeUnit.SECONDS.toMillis(30));
        }
        routing.set(false);
        swapper.join(TimeUnit.SECONDS.toMillis(30));

        int total = threads * batchesPerThread;
        await("every batch delivered", () -> delivered.get() == total);
        assertThat(stable.messageCount()).isEqualTo(total * 10);
        assertThat(stat(engine, "signalbox_messages_unrouted_total")).isZero();
        for (int t = 0; t < threads; t++) {
            String source = "src-" + t;
            List<Message> ofSource = new ArrayList<>();
            for (Message m : stable.messages()) {
                if (m.source().equals(source)) {
                    ofSource.add(m);
                }
            }
            assertThat(seqs(ofSource)).as(source).isSorted().hasSize(batchesPerThread * 10);
        }
    }

    @Test
    void unbindingABackendWaitsForItsWriteInProgress() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend gated = new FakeBackend().gated();
        bind(engine, "files", gated);
        engine.addRoute(RouteDefinition.of("r", "web", "files"));
        route(engine, events("web", 0, 10));
        assertThat(gated.awaitWriteStarted(10)).isTrue();

        AtomicBoolean unbound = new AtomicBoolean();
        Thread unbinder = new Thread(() -> {
            engine.unbindBackend(gated, Map.of("signalbox.backend.name", "files"));
            unbound.set(true);
        });
        unbinder.start();
        await("unbind is waiting", () -> unbinder.getState() == Thread.State.TIMED_WAITING
                || unbinder.getState() == Thread.State.WAITING);
        assertThat(unbound.get()).isFalse();

        gated.open();
        unbinder.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(unbound.get()).isTrue();
        assertThat(gated.messageCount()).isEqualTo(10);
        await("delivered", () -> delivered.get() == 1);
        assertThat(stat(engine, "signalbox_channel_waiting_for_backend{backend=\"files\"}")).isEqualTo(1);
    }

    @Test
    void deactivateDrainsWhatTheChannelsHoldBeforeReturning() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend gated = new FakeBackend().gated();
        bind(engine, "files", gated);
        engine.addRoute(RouteDefinition.of("r", "default", "files"));
        for (int i = 0; i < 10; i++) {
            route(engine, events("web", i * 10, 10));
        }
        assertThat(gated.awaitWriteStarted(10)).isTrue();

        Thread stopper = new Thread(engine::deactivate);
        stopper.start();
        await("deactivate is draining", () -> stopper.getState() == Thread.State.TIMED_WAITING);
        route(engine, events("web", 100, 10)); // after stop: not accepted, callback still runs
        assertThat(stat(engine, "signalbox_routing_rejected_messages_total")).isEqualTo(10);

        gated.open();
        stopper.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(stopper.isAlive()).isFalse();
        assertThat(seqs(gated.messages())).isSorted().hasSize(100);
        assertThat(delivered.get()).isEqualTo(11);
        assertThat(stat(engine, "signalbox_channel_queued_messages{backend=\"files\"}")).isZero();
    }

    @Test
    void deactivateDoesNotWaitForAnAbsentBackendAndKeepsItsBatchesInTheSpool(@TempDir Path dir) {
        RoutingEngine engine = new RoutingEngine(TestSupport.engineConfig(Map.of("drain.timeout.seconds", 30,
                "spool.dir", dir.toString())));
        engine.addRoute(RouteDefinition.of("r", "web", "missing"));
        route(engine, events("web", 0, 10));

        long t0 = System.nanoTime();
        engine.deactivate();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(30);
        assertThat(stat(engine, "signalbox_channel_queued_messages{backend=\"missing\"}")).isZero();
        assertThat(stat(engine, "signalbox_spool_messages{backend=\"missing\"}")).isEqualTo(10);
        assertThat(delivered.get()).isEqualTo(1);
    }

    @Test
    void spoolThatCannotBeWrittenKeepsTheBatchesInMemoryUntilTheBackendArrives(@TempDir Path dir) throws Exception {
        Path notADirectory = java.nio.file.Files.writeString(dir.resolve("file"), "x");
        RoutingEngine engine = engine(notADirectory);
        engine.addRoute(RouteDefinition.of("r", "web", "late"));
        for (int i = 0; i < 5; i++) {
            route(engine, events("web", i * 2, 2));
        }
        await("queued in memory", () -> stat(engine, "signalbox_channel_queued_messages{backend=\"late\"}") == 10);
        assertThat(delivered.get()).isZero();
        assertThat(stat(engine, "signalbox_spool_messages{backend=\"late\"}")).isZero();
        FakeBackend late = new FakeBackend();
        bind(engine, "late", late);
        await("delivered", () -> delivered.get() == 5);
        assertThat(seqs(late.messages())).isSorted().hasSize(10);
    }

    @Test
    void spoolSurvivesARestartAndIsReplayedWhenTheBackendAppearsAfterIt(@TempDir Path dir) {
        RoutingEngine first = TestSupport.engine(dir);
        first.addRoute(RouteDefinition.of("r", "web", "later"));
        for (int i = 0; i < 10; i++) {
            route(first, events("web", i * 3, 3));
        }
        await("spooled", () -> delivered.get() == 10);
        first.deactivate();

        RoutingEngine second = engine(dir); // no route names "later" yet: the spool alone makes its channel
        await("spool opened", () -> stat(second, "signalbox_spool_messages{backend=\"later\"}") == 30);
        assertThat(stat(second, "signalbox_channel_waiting_for_backend{backend=\"later\"}")).isEqualTo(1);
        FakeBackend later = new FakeBackend();
        bind(second, "later", later);
        await("replayed", () -> later.messageCount() == 30);
        assertThat(seqs(later.messages())).isSorted().doesNotHaveDuplicates();
        await("spool emptied", () -> stat(second, "signalbox_spool_messages{backend=\"later\"}") == 0);
    }

    @Test
    void backendSwappedUnderSteadyRoutingLosesAndDuplicatesNothing() throws Exception {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("r", "src-*", "swap"));
        FakeBackend v1 = new FakeBackend();
        bind(engine, "swap", v1);
        int sources = 3;
        int batchesPerSource = 400;
        Thread producer = new Thread(() -> {
            for (int i = 0; i < batchesPerSource; i++) {
                for (int s = 0; s < sources; s++) {
                    route(engine, events("src-" + s, i * 5, 5));
                }
                if (i % 50 == 0) {
                    Thread.yield();
                }
            }
        });
        producer.start();
        List<FakeBackend> versions = new ArrayList<>(List.of(v1));
        FakeBackend current = v1;
        for (int round = 0; round < 4; round++) {
            FakeBackend cur = current;
            await("some traffic reached version " + round, () -> cur.messageCount() > 0 || !producer.isAlive());
            engine.unbindBackend(cur, Map.of(Backend.NAME, "swap")); // old bundle stops: in-flight write finishes
            FakeBackend next = new FakeBackend();
            versions.add(next);
            bind(engine, "swap", next); // new version of the bundle
            current = next;
        }
        producer.join();
        long total = (long) sources * batchesPerSource * 5;
        FakeBackend last = current;
        await("everything delivered", () -> versions.stream().mapToLong(FakeBackend::messageCount).sum() == total);
        Map<String, List<Long>> perSource = new TreeMap<>();
        for (FakeBackend v : versions) {
            for (Message m : v.messages()) {
                perSource.computeIfAbsent(m.source(), k -> new ArrayList<>()).add(m.timestamp());
            }
        }
        // versions are consulted in the order they were live, so per source the union stays in order
        for (Map.Entry<String, List<Long>> e : perSource.entrySet()) {
            assertThat(e.getValue()).as(e.getKey()).hasSize(batchesPerSource * 5).isSorted().doesNotHaveDuplicates();
        }
        await("callbacks ran", () -> delivered.get() == sources * batchesPerSource);
        assertThat(stat(engine, "signalbox_spool_messages{backend=\"swap\"}")).isZero();
        assertThat(last.messageCount()).isPositive();
    }

    @Test
    void batchesStillHeldAtDeactivateAreNotRoutedAndLaterOnesAreRejected() {
        RoutingEngine engine = new RoutingEngine(TestSupport.engineConfig(Map.of()));
        route(engine, events("web", 0, 10));
        assertThat(stat(engine, "signalbox_batches_held")).isEqualTo(1);

        engine.deactivate();
        route(engine, events("web", 10, 10));

        assertThat(stat(engine, "signalbox_batches_held")).isZero();
        assertThat(stat(engine, "signalbox_routing_rejected_messages_total")).isEqualTo(10);
        assertThat(delivered.get()).isEqualTo(1); // only the rejected batch's callback ran
    }

    @Test
    void statsNameEverySeriesOfTheIssue() {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("r", "web", "files"));
        assertThat(engine.stats()).containsKeys(
                "signalbox_messages_routed_total{backend=\"files\"}",
                "signalbox_channel_queued_messages{backend=\"files\"}",
                "signalbox_backend_write_failures_total{backend=\"files\"}",
                "signalbox_backend_batches_written_total{backend=\"files\"}",
                "signalbox_channel_waiting_for_backend{backend=\"files\"}",
                "signalbox_messages_unrouted_total",
                "signalbox_routes_configured",
                "signalbox_batches_held");
    }
}
