package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.await;
import static io.signalbox.routing.internal.TestSupport.backendStat;
import static io.signalbox.routing.internal.TestSupport.batch;
import static io.signalbox.routing.internal.TestSupport.bind;
import static io.signalbox.routing.internal.TestSupport.events;
import static io.signalbox.routing.internal.TestSupport.seqs;
import static io.signalbox.routing.internal.TestSupport.stat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendStatus;
import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;

class RoutingEngineTest {
    @RegisterExtension
    final TestSupport.Engines engines = new TestSupport.Engines();

    private RoutingEngine engine() {
        return engines.start();
    }

    private void route(RoutingEngine engine, Batch batch) {
        engines.route(engine, batch);
    }

    private int delivered() {
        return engines.delivered();
    }

    /** An engine routing {@code web} to a fast backend and a slow one. */
    private RoutingEngine fastAndSlow(FakeBackend fast, FakeBackend slow) {
        RoutingEngine engine = engine();
        bind(engine, "fast", fast);
        bind(engine, "slow", slow);
        engine.addRoute(RouteDefinition.of("r", "web", "fast", "slow"));
        return engine;
    }

    @Test
    void engineConfigurationWithAnUnknownKeyIsRejectedAndTheEngineDoesNotStart() {
        Map<String, Object> props = Map.of("service.pid", RoutingEngine.PID, "spool.max.mbs", "10");
        assertThatThrownBy(() -> new RoutingEngine(TestSupport.engineConfig(props), props))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("configuration io.signalbox.routing rejected: ")
                .hasMessageContaining("unknown key 'spool.max.mbs' (did you mean 'spool.max.mb'?)");
    }

    @Test
    void invalidEngineModificationKeepsTheConfigurationInForceAndAValidOneApplies() {
        RoutingEngine engine = engine();
        Map<String, Object> bad = Map.of("retry.initial.ms", "50", "retry.maxms", "60");
        assertThat(engine.reconfigure(TestSupport.engineConfig(bad), bad)).isFalse();
        assertThat(engine.settings().retryInitialMillis()).isEqualTo(5);
        assertThat(engine.settings().retryMaxMillis()).isEqualTo(20);
        Map<String, Object> good = Map.of("retry.initial.ms", "50", "retry.max.ms", "60");
        assertThat(engine.reconfigure(TestSupport.engineConfig(good), good)).isTrue();
        assertThat(engine.settings().retryInitialMillis()).isEqualTo(50);
        assertThat(engine.settings().retryMaxMillis()).isEqualTo(60);
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

        await("both parts written", () -> delivered() == 1);
        assertThat(events.messages()).extracting(Message::type).containsExactly(MessageType.EVENT, MessageType.EVENT);
        assertThat(spans.messages()).extracting(Message::type).containsExactly(MessageType.SPAN);
        assertThat(stat(engine, "signalbox_messages_unrouted_total")).isEqualTo(1);
        assertThat(backendStat(engine, "signalbox_messages_routed_total", "events")).isEqualTo(2);
        assertThat(backendStat(engine, "signalbox_messages_routed_total", "spans")).isEqualTo(1);
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

        await("delivered", () -> delivered() == 1);
        assertThat(files.batches()).hasSize(1);
        assertThat(files.batches().get(0)).isSameAs(b); // whole batch passed on, not copied
        assertThat(backendStat(engine, "signalbox_backend_batches_written_total", "files")).isEqualTo(1);
    }

    @Test
    void messagesNoRouteTakesAreCountedAndTheirCallbackRunsAtOnce() {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("billing", "billing", "files"));

        route(engine, events("web", 0, 7));

        assertThat(delivered()).isEqualTo(1);
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
        assertThat(delivered()).isZero();

        engine.addRoute(RouteDefinition.of("all", "default", "files"));
        route(engine, events("web", 50, 10));

        await("all delivered", () -> delivered() == 6);
        assertThat(seqs(files.messages())).isSorted().hasSize(60);
        assertThat(stat(engine, "signalbox_batches_held")).isZero();
        assertThat(stat(engine, "signalbox_routes_configured")).isEqualTo(1);
    }

    @Test
    void batchesForAnAbsentBackendAreSpooledReleasedAndReplayedInOrderWhenItArrives() {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("r", "web", "late"));
        assertThat(backendStat(engine, "signalbox_channel_waiting_for_backend", "late")).isEqualTo(1);

        for (int i = 0; i < 20; i++) {
            route(engine, events("web", i * 5, 5));
        }
        // in the spool, the callbacks ran: the absent backend holds no in-flight capacity
        await("all spooled", () -> delivered() == 20);
        assertThat(backendStat(engine, "signalbox_spool_messages", "late")).isEqualTo(100);
        assertThat(backendStat(engine, "signalbox_spool_bytes", "late")).isPositive();
        assertThat(backendStat(engine, "signalbox_channel_queued_messages", "late")).isZero();

        FakeBackend late = new FakeBackend();
        bind(engine, "late", late);
        route(engine, events("web", 100, 5)); // live traffic after the arrival comes after the spool

        await("all written", () -> late.messageCount() == 105);
        assertThat(seqs(late.messages())).isSorted().doesNotHaveDuplicates().hasSize(105);
        assertThat(backendStat(engine, "signalbox_channel_waiting_for_backend", "late")).isZero();
        await("spool emptied", () -> backendStat(engine, "signalbox_spool_messages", "late") == 0);
        assertThat(backendStat(engine, "signalbox_spool_bytes", "late")).isZero();
    }

    @Test
    void failingBackendIsRetriedWithBackoffUntilItSucceedsAndOrderIsKept() {
        RoutingEngine engine = engine();
        FakeBackend flaky = new FakeBackend().failing(3);
        bind(engine, "flaky", flaky);
        engine.addRoute(RouteDefinition.of("r", "web", "flaky"));

        route(engine, events("web", 0, 3));
        route(engine, events("web", 3, 3));

        await("both delivered", () -> delivered() == 2);
        assertThat(flaky.attempts()).isEqualTo(5);
        assertThat(seqs(flaky.messages())).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(backendStat(engine, "signalbox_backend_write_failures_total", "flaky")).isEqualTo(3);
        assertThat(backendStat(engine, "signalbox_backend_batches_written_total", "flaky")).isEqualTo(2);
    }

    @Test
    void deliveredRunsOnlyAfterEveryChannelHasWritten() throws Exception {
        FakeBackend fast = new FakeBackend();
        FakeBackend slow = new FakeBackend().gated();
        RoutingEngine engine = fastAndSlow(fast, slow);

        route(engine, events("web", 0, 10));

        await("fast wrote", () -> fast.messageCount() == 10);
        assertThat(slow.awaitWriteStarted(10)).isTrue();
        assertThat(delivered()).isZero();

        slow.open();
        await("delivered", () -> delivered() == 1);
        assertThat(slow.messageCount()).isEqualTo(10);
    }

    @Test
    void slowBackendDoesNotHoldUpAnotherBackend() throws Exception {
        FakeBackend fast = new FakeBackend();
        FakeBackend slow = new FakeBackend().gated();
        RoutingEngine engine = fastAndSlow(fast, slow);

        for (int i = 0; i < 50; i++) {
            route(engine, events("web", i * 10, 10));
        }

        await("fast wrote everything", () -> fast.messageCount() == 500);
        assertThat(slow.awaitWriteStarted(10)).isTrue();
        assertThat(slow.messageCount()).isZero();
        assertThat(backendStat(engine, "signalbox_channel_queued_messages", "slow")).isEqualTo(500);
        assertThat(delivered()).isZero();

        slow.open();
        await("all delivered", () -> delivered() == 50);
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
        await("every batch delivered", () -> delivered() == total);
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

    /** Routes {@code batches} batches of ten to backend {@code files}, which holds its first write until opened. */
    private FakeBackend hungWriteOf(RoutingEngine engine, int batches) throws InterruptedException {
        FakeBackend gated = new FakeBackend().gated();
        bind(engine, "files", gated);
        engine.addRoute(RouteDefinition.of("r", "default", "files"));
        for (int i = 0; i < batches; i++) {
            route(engine, events("web", i * 10, 10));
        }
        assertThat(gated.awaitWriteStarted(10)).isTrue();
        return gated;
    }

    @Test
    void unbindingABackendWaitsForItsWriteInProgress() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend gated = hungWriteOf(engine, 1);

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
        await("delivered", () -> delivered() == 1);
        assertThat(backendStat(engine, "signalbox_channel_waiting_for_backend", "files")).isEqualTo(1);
    }

    @Test
    void deactivateDrainsWhatTheChannelsHoldBeforeReturning() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend gated = hungWriteOf(engine, 10);

        Thread stopper = new Thread(engine::deactivate);
        stopper.start();
        await("deactivate is draining", () -> stopper.getState() == Thread.State.TIMED_WAITING);
        route(engine, events("web", 100, 10)); // after stop: not accepted, callback still runs
        assertThat(stat(engine, "signalbox_routing_rejected_messages_total")).isEqualTo(10);

        gated.open();
        stopper.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(stopper.isAlive()).isFalse();
        assertThat(seqs(gated.messages())).isSorted().hasSize(100);
        assertThat(delivered()).isEqualTo(11);
        assertThat(backendStat(engine, "signalbox_channel_queued_messages", "files")).isZero();
    }

    @Test
    void deactivateDoesNotWaitForAnAbsentBackendAndKeepsItsBatchesInTheSpool() {
        RoutingEngine engine = engines.start("drain.timeout.seconds", 30);
        engine.addRoute(RouteDefinition.of("r", "web", "missing"));
        route(engine, events("web", 0, 10));

        Thread stopper = new Thread(() -> engines.stop(engine));
        stopper.start();
        // the await gives up after 10 s, long before the 30 s drain timeout would end
        await("deactivated without waiting for the drain timeout", () -> !stopper.isAlive());
        assertThat(backendStat(engine, "signalbox_channel_queued_messages", "missing")).isZero();
        assertThat(backendStat(engine, "signalbox_spool_messages", "missing")).isEqualTo(10);
        assertThat(delivered()).isEqualTo(1);
    }

    @Test
    void spoolThatCannotBeWrittenKeepsTheBatchesInMemoryUntilTheBackendArrives() throws Exception {
        Path notADirectory = Files.writeString(engines.dir().resolve("file"), "x");
        RoutingEngine engine = engines.start("spool.dir", notADirectory.toString());
        engine.addRoute(RouteDefinition.of("r", "web", "late"));
        for (int i = 0; i < 5; i++) {
            route(engine, events("web", i * 2, 2));
        }
        await("queued in memory", () -> backendStat(engine, "signalbox_channel_queued_messages", "late") == 10);
        assertThat(delivered()).isZero();
        assertThat(backendStat(engine, "signalbox_spool_messages", "late")).isZero();
        FakeBackend late = new FakeBackend();
        bind(engine, "late", late);
        await("delivered", () -> delivered() == 5);
        assertThat(seqs(late.messages())).isSorted().hasSize(10);
    }

    @Test
    void spoolSurvivesARestartAndIsReplayedWhenTheBackendAppearsAfterIt() {
        RoutingEngine first = engine();
        first.addRoute(RouteDefinition.of("r", "web", "later"));
        for (int i = 0; i < 10; i++) {
            route(first, events("web", i * 3, 3));
        }
        await("spooled", () -> delivered() == 10);
        engines.stop(first);

        RoutingEngine second = engine(); // no route names "later" yet: the spool alone makes its channel
        await("spool opened", () -> backendStat(second, "signalbox_spool_messages", "later") == 30);
        assertThat(backendStat(second, "signalbox_channel_waiting_for_backend", "later")).isEqualTo(1);
        FakeBackend later = new FakeBackend();
        bind(second, "later", later);
        await("replayed", () -> later.messageCount() == 30);
        assertThat(seqs(later.messages())).isSorted().doesNotHaveDuplicates();
        await("spool emptied", () -> backendStat(second, "signalbox_spool_messages", "later") == 0);
    }

    @Test
    void backendSwappedUnderSteadyRoutingLosesAndDuplicatesNothing() throws Exception {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("r", "src-*", "swap"));
        FakeBackend v1 = new FakeBackend();
        bind(engine, "swap", v1);
        int sources = 3;
        // the producer runs until the last version has had traffic: every version is swapped under load
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();
        Thread producer = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                for (int s = 0; s < sources; s++) {
                    route(engine, events("src-" + s, i * 5, 5));
                }
                rounds.incrementAndGet();
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
            await("some traffic reached version " + round, () -> cur.messageCount() > 0);
            engine.unbindBackend(cur, Map.of(Backend.NAME, "swap")); // old bundle stops: in-flight write finishes
            FakeBackend next = new FakeBackend();
            versions.add(next);
            bind(engine, "swap", next); // new version of the bundle
            current = next;
        }
        FakeBackend last = current;
        await("some traffic reached the last version", () -> last.messageCount() > 0);
        stop.set(true);
        producer.join();
        int batchesPerSource = rounds.get();
        long total = (long) sources * batchesPerSource * 5;
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
        await("callbacks ran", () -> delivered() == sources * batchesPerSource);
        assertThat(backendStat(engine, "signalbox_spool_messages", "swap")).isZero();
    }

    @Test
    void batchesStillHeldAtDeactivateAreNotRoutedAndLaterOnesAreRejected() {
        RoutingEngine engine = engine();
        route(engine, events("web", 0, 10));
        assertThat(stat(engine, "signalbox_batches_held")).isEqualTo(1);

        engines.stop(engine);
        route(engine, events("web", 10, 10));

        assertThat(stat(engine, "signalbox_batches_held")).isZero();
        assertThat(stat(engine, "signalbox_routing_rejected_messages_total")).isEqualTo(10);
        assertThat(delivered()).isEqualTo(1); // only the rejected batch's callback ran
    }

    /** The kind of a series by its name, as /metrics has always shown it. */
    private static MetricSamples.Type typeOf(String name) {
        return name.endsWith("_total") ? MetricSamples.Type.COUNTER
                : name.endsWith("_seconds") ? MetricSamples.Type.HISTOGRAM : MetricSamples.Type.GAUGE;
    }

    @Test
    void everySeriesKeepsItsNameTypeAndLabels() {
        RoutingEngine engine = engine();
        engine.addRoute(RouteDefinition.of("r", "web", "files"));
        List<String> perBackend = List.of("signalbox_messages_routed_total", "signalbox_channel_queued_messages",
                "signalbox_channel_in_flight_batches",
                "signalbox_backend_write_failures_total", "signalbox_backend_batches_written_total",
                "signalbox_backend_messages_written_total",
                "signalbox_channel_waiting_for_backend", "signalbox_spool_bytes", "signalbox_spool_messages",
                "signalbox_spool_dropped_messages_total", "signalbox_spool_corrupt_records_total",
                "signalbox_spool_ignored_files", "signalbox_spool_appended_messages_total",
                "signalbox_spool_replayed_messages_total", "signalbox_backend_breaker_state",
                "signalbox_backend_breaker_opened_total", "signalbox_deadletter_messages_total",
                "signalbox_backend_latency_seconds", "signalbox_pipeline_latency_seconds", "signalbox_backend_state");
        List<String> global = List.of("signalbox_messages_unrouted_total", "signalbox_routing_rejected_messages_total",
                "signalbox_routes_configured", "signalbox_batches_held");
        List<Tuple> expected = new ArrayList<>();
        perBackend.forEach(n -> expected.add(tuple(n, typeOf(n), Map.of("backend", "files"))));
        global.forEach(n -> expected.add(tuple(n, typeOf(n), Map.of())));

        assertThat(MetricSamples.of(engine).all()).extracting(MetricSamples.Sample::name, MetricSamples.Sample::type,
                MetricSamples.Sample::labels).containsExactlyElementsOf(expected);
        assertThat(backendStat(engine, "signalbox_backend_state", "files"))
                .isEqualTo(BackendStatus.State.WAITING_FOR_BUNDLE.ordinal());
    }

    @Test
    void labelValuesAreDataAndNotEscapedByTheEngine() {
        RoutingEngine engine = engine();
        String name = "odd \"name\"\\with\nnewline";
        engine.addRoute(RouteDefinition.of("r", "web", name));
        assertThat(MetricSamples.of(engine).byLabel("signalbox_spool_messages", "backend")).containsOnlyKeys(name);
    }
}
