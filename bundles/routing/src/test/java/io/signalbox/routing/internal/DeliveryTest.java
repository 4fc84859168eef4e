package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.await;
import static io.signalbox.routing.internal.TestSupport.bind;
import static io.signalbox.routing.internal.TestSupport.engineConfig;
import static io.signalbox.routing.internal.TestSupport.events;
import static io.signalbox.routing.internal.TestSupport.stat;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;

/** The channel's delivery guarantees: breaker, bounded queue, dead letters, shutdown into the spool. */
class DeliveryTest {
    @TempDir
    Path dir;

    private final List<RoutingEngine> engines = new ArrayList<>();
    private final AtomicInteger delivered = new AtomicInteger();

    @AfterEach
    void stopEngines() {
        for (RoutingEngine e : engines) {
            e.deactivate();
        }
    }

    /** An engine with its spool and dead letters under the test's directory and fast retries. */
    private RoutingEngine engine(Object... settings) {
        Map<String, Object> m = new HashMap<>(Map.of("retry.initial.ms", 5, "retry.max.ms", 20, "drain.timeout.seconds", 5,
                "spool.dir", dir.resolve("spool").toString(), "deadletter.dir", dir.resolve("deadletter").toString(),
                "replay.rate", 0));
        for (int i = 0; i < settings.length; i += 2) {
            m.put((String) settings[i], settings[i + 1]);
        }
        RoutingEngine e = new RoutingEngine(engineConfig(m));
        engines.add(e);
        return e;
    }

    /** {@link TestSupport#await}, with the engine's stats in the failure message. */
    private void awaitWithStats(RoutingEngine engine, String what, java.util.function.BooleanSupplier condition) {
        try {
            await(what, condition);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; delivered callbacks " + delivered.get() + "; stats " + engine.stats(), e);
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

    private static List<Long> range(int from, int to) {
        List<Long> out = new ArrayList<>();
        for (long i = from; i < to; i++) {
            out.add(i);
        }
        return out;
    }

    /** Fails every write while down. */
    static class SwitchableBackend implements Backend {
        final AtomicBoolean down = new AtomicBoolean();
        final AtomicInteger attempts = new AtomicInteger();
        final List<Message> written = new ArrayList<>();

        @Override
        public void write(Batch batch) throws IOException {
            attempts.incrementAndGet();
            if (down.get()) {
                throw new IOException("connection refused (simulated)");
            }
            synchronized (written) {
                written.addAll(batch.messages());
            }
        }

        List<Message> written() {
            synchronized (written) {
                return new ArrayList<>(written);
            }
        }
    }

    @Test
    void breakerOpensAfterConsecutiveFailuresSpoolsWhileOpenAndClosesWhenAProbeSucceeds() {
        RoutingEngine engine = engine("breaker.failures", 3, "breaker.open.ms", 200);
        SwitchableBackend db = new SwitchableBackend();
        db.down.set(true);
        bind(engine, "db", db);
        engine.addRoute(RouteDefinition.of("all", "*", "db"));
        for (int i = 0; i < 20; i++) {
            route(engine, events("svc", i * 10, 10));
        }
        // open: every batch is in the spool and its callback ran, although nothing was written
        awaitWithStats(engine, "breaker open and everything spooled", () -> stat(engine, "signalbox_backend_breaker_state{backend=\"db\"}") == 2
                && delivered.get() == 20 && stat(engine, "signalbox_spool_messages{backend=\"db\"}") == 200);
        assertThat(db.written()).isEmpty();
        assertThat(stat(engine, "signalbox_backend_breaker_opened_total{backend=\"db\"}")).isEqualTo(1);

        db.down.set(false);
        await("breaker closed and the spool replayed", () -> db.written().size() == 200
                && stat(engine, "signalbox_backend_breaker_state{backend=\"db\"}") == 0);
        assertThat(seqs(db.written())).isEqualTo(range(0, 200));
        assertThat(stat(engine, "signalbox_spool_replayed_messages_total{backend=\"db\"}")).isEqualTo(200);
        await("spool empty", () -> stat(engine, "signalbox_spool_messages{backend=\"db\"}") == 0);

        // closed again: new traffic goes straight to the backend, after what was spooled
        route(engine, events("svc", 200, 10));
        await("new batch written", () -> db.written().size() == 210);
        assertThat(seqs(db.written())).isEqualTo(range(0, 210));
    }

    @Test
    void aProbeThatFailsOpensTheBreakerAgainWithoutLosingOrReorderingAnything() {
        RoutingEngine engine = engine("breaker.failures", 2, "breaker.open.ms", 50);
        SwitchableBackend db = new SwitchableBackend();
        db.down.set(true);
        bind(engine, "db", db);
        engine.addRoute(RouteDefinition.of("all", "*", "db"));
        for (int i = 0; i < 5; i++) {
            route(engine, events("svc", i * 10, 10));
        }
        int before = db.attempts.get();
        await("several probes failed", () -> db.attempts.get() >= before + 5);
        assertThat(stat(engine, "signalbox_backend_breaker_opened_total{backend=\"db\"}")).isEqualTo(1);
        assertThat(delivered.get()).isEqualTo(5);
        db.down.set(false);
        await("replayed", () -> db.written().size() == 50);
        assertThat(seqs(db.written())).isEqualTo(range(0, 50));
    }

    @Test
    void aBackendFailingEveryOtherWriteOpensTheBreakerByItsErrorRateAndLosesNothing() {
        RoutingEngine engine = engine("breaker.failures", 1000, "breaker.error.rate", 0.5, "breaker.window", 10,
                "breaker.open.ms", 100);
        AtomicInteger calls = new AtomicInteger();
        SwitchableBackend flaky = new SwitchableBackend() {
            @Override
            public void write(Batch batch) throws IOException {
                down.set(calls.incrementAndGet() % 2 == 1); // fails the 1st, 3rd, 5th ... write
                super.write(batch);
            }
        };
        bind(engine, "flaky", flaky);
        engine.addRoute(RouteDefinition.of("all", "*", "flaky"));
        for (int i = 0; i < 20; i++) {
            route(engine, events("svc", i * 10, 10));
        }
        awaitWithStats(engine, "everything written", () -> flaky.written().size() == 200);
        assertThat(stat(engine, "signalbox_backend_breaker_opened_total{backend=\"flaky\"}")).isPositive();
        assertThat(seqs(flaky.written())).isEqualTo(range(0, 200));

        RoutingEngine.Config off = engineConfig(Map.of("breaker.error.rate", 0));
        assertThat(RoutingEngine.problems(off, Map.of("breaker.error.rate", 0))).isNull();
    }

    @Test
    void aHungBackendHoldsOnlyItsBoundInMemoryAndAnotherBackendKeepsFlowing() {
        RoutingEngine engine = engine("channel.queue.messages", 50);
        FakeBackend slow = new FakeBackend().gated();
        FakeBackend fast = new FakeBackend();
        bind(engine, "slow", slow);
        bind(engine, "fast", fast);
        engine.addRoute(RouteDefinition.of("both", "*", "slow", "fast"));
        for (int i = 0; i < 100; i++) {
            route(engine, events("svc", i * 10, 10));
        }
        // while slow's first write hangs, it keeps at most its bound (50 messages, the hung batch included) in
        // memory; every other batch is in its spool and its callback ran (fast wrote all of them)
        awaitWithStats(engine, "all but the bound spooled", () -> {
            long queued = stat(engine, "signalbox_channel_queued_messages{backend=\"slow\"}");
            return fast.messageCount() == 1000 && queued <= 50
                    && queued + stat(engine, "signalbox_spool_messages{backend=\"slow\"}") == 1000
                    && delivered.get() == 100 - queued / 10;
        });
        assertThat(slow.messageCount()).isZero();

        slow.open();
        await("slow caught up", () -> slow.messageCount() == 1000 && delivered.get() == 100);
        assertThat(seqs(slow.messages())).isEqualTo(range(0, 1000));
        assertThat(seqs(fast.messages())).isEqualTo(range(0, 1000));
    }

    @Test
    void aRejectedBatchIsDeadLetteredWithItsReasonAndTheNextBatchesFlow() throws Exception {
        RoutingEngine engine = engine();
        FakeBackend ok = new FakeBackend();
        Backend picky = batch -> {
            if (batch.messages().get(0).timestamp() == 10) {
                throw new BatchRejectedException("HTTP 422: \"value\" is not a number");
            }
            ok.write(batch);
        };
        bind(engine, "picky", picky);
        engine.addRoute(RouteDefinition.of("all", "*", "picky"));
        for (int i = 0; i < 3; i++) {
            route(engine, events("svc", i * 10, 10));
        }
        await("delivered", () -> delivered.get() == 3);
        assertThat(seqs(ok.messages())).isEqualTo(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 20L, 21L, 22L, 23L, 24L,
                25L, 26L, 27L, 28L, 29L));
        assertThat(stat(engine, "signalbox_deadletter_messages_total{backend=\"picky\"}")).isEqualTo(10);
        assertThat(stat(engine, "signalbox_backend_write_failures_total{backend=\"picky\"}")).isZero();
        assertThat(stat(engine, "signalbox_backend_breaker_state{backend=\"picky\"}")).isZero();

        Path file = dir.resolve("deadletter/picky/" + LocalDate.now(ZoneOffset.UTC) + ".jsonl");
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(10);
        for (int i = 0; i < 10; i++) {
            String raw = new String(TestSupport.message("svc", io.signalbox.api.MessageType.EVENT, 10 + i).line(),
                    StandardCharsets.UTF_8);
            assertThat(lines.get(i)).matches("\\{\"ts\":\\d{13},\"backend\":\"picky\",.*")
                    .contains(",\"reason\":\"HTTP 422: \\\"value\\\" is not a number\",")
                    .endsWith(",\"message\":" + raw + "}");
        }
    }

    @Test
    void whatIsQueuedWhileTheBreakerIsOpenAtShutdownIsReplayedByTheNextStart() {
        RoutingEngine first = engine("breaker.failures", 1, "breaker.open.ms", 60_000);
        SwitchableBackend down = new SwitchableBackend();
        down.down.set(true);
        bind(first, "db", down);
        first.addRoute(RouteDefinition.of("all", "*", "db"));
        for (int i = 0; i < 10; i++) {
            route(first, events("svc", i * 10, 10));
        }
        await("breaker open", () -> stat(first, "signalbox_backend_breaker_state{backend=\"db\"}") == 2);
        first.deactivate();
        engines.remove(first);
        assertThat(delivered.get()).isEqualTo(10);

        RoutingEngine second = engine();
        SwitchableBackend up = new SwitchableBackend();
        bind(second, "db", up);
        second.addRoute(RouteDefinition.of("all", "*", "db"));
        await("replayed after the restart", () -> up.written().size() == 100);
        assertThat(seqs(up.written())).isEqualTo(range(0, 100));
    }

    @Test
    void whatAHungBackendStillHoldsAfterTheDrainTimeoutIsSpooledAndReplayedByTheNextStart() {
        RoutingEngine first = engine("drain.timeout.seconds", 1);
        FakeBackend hung = new FakeBackend().gated();
        bind(first, "db", hung);
        first.addRoute(RouteDefinition.of("all", "*", "db"));
        for (int i = 0; i < 10; i++) {
            route(first, events("svc", i * 10, 10));
        }
        await("first write started", () -> hung.attempts() == 1);
        first.deactivate();
        engines.remove(first);
        assertThat(delivered.get()).isEqualTo(10);

        RoutingEngine second = engine();
        SwitchableBackend up = new SwitchableBackend();
        bind(second, "db", up);
        second.addRoute(RouteDefinition.of("all", "*", "db"));
        await("replayed after the restart", () -> up.written().size() == 100);
        assertThat(seqs(up.written())).isEqualTo(range(0, 100));
        hung.open();
    }

    @Test
    void newSettingsAreValidatedWithEveryReason() {
        Map<String, Object> bad = Map.of("spool.fsync", "sometimes", "spool.fsync.interval.ms", 0, "channel.queue.messages", 0,
                "breaker.failures", 0, "breaker.open.ms", 0, "replay.rate", -1, "deadletter.dir", " ",
                "breaker.error.rate", 1.5, "breaker.window", 65);
        String problems = RoutingEngine.problems(engineConfig(bad), bad);
        assertThat(problems).contains("spool.fsync=sometimes must be one of always, interval, never",
                "spool.fsync.interval.ms=0", "channel.queue.messages=0", "breaker.failures=0", "breaker.open.ms=0",
                "replay.rate=-1", "deadletter.dir must not be empty", "breaker.error.rate=1.5 must be between 0 and 1",
                "breaker.window=65 must be between 2 and 64");
        RoutingEngine.Config defaults = engineConfig(Map.of());
        assertThat(defaults.spool_fsync()).isEqualTo("interval");
        assertThat(defaults.channel_queue_messages()).isEqualTo(2000);
        assertThat(defaults.breaker_failures()).isEqualTo(5);
        assertThat(defaults.breaker_open_ms()).isEqualTo(10_000);
        assertThat(defaults.replay_rate()).isEqualTo(20_000);
    }

    @Test
    void foreignFilesAndDirectoriesInTheSpoolDirectoryAreIgnoredAndCountedNotReplayed() throws Exception {
        Path spool = dir.resolve("spool");
        Files.createDirectories(spool.resolve("db"));
        Files.writeString(spool.resolve("db/notes.txt"), "not a segment");
        Files.writeString(spool.resolve("garbage.bin"), "x");
        Files.createDirectories(spool.resolve("x y%z"));
        Files.write(spool.resolve("x y%z/00000000000000000001.seg"), new byte[] {1, 2, 3});
        Files.createDirectories(spool.resolve("_zz"));
        Files.write(spool.resolve("_zz/00000000000000000001.seg"), new byte[] {1, 2, 3});
        Files.write(spool.resolve("db/00000000000000000001.seg"), new byte[] {0, 0, 0, 9, 1, 2});

        RoutingEngine engine = engine();
        SwitchableBackend db = new SwitchableBackend();
        bind(engine, "db", db);
        engine.addRoute(RouteDefinition.of("all", "*", "db"));
        route(engine, events("svc", 0, 10));
        await("delivered", () -> db.written().size() == 10);
        assertThat(stat(engine, "signalbox_spool_ignored_files{backend=\"db\"}")).isEqualTo(1);
        assertThat(stat(engine, "signalbox_spool_corrupt_records_total{backend=\"db\"}")).isEqualTo(1);
        assertThat(engine.stats().keySet()).noneMatch(k -> k.contains("x y%z") || k.contains("_zz"));
        assertThat(Files.exists(spool.resolve("db/notes.txt"))).isTrue();
        assertThat(RoutingEngine.isSpoolDirectoryName("x_20y_25z")).isTrue();
        assertThat(RoutingEngine.isSpoolDirectoryName("x y%z")).isFalse();
        assertThat(RoutingEngine.isSpoolDirectoryName("_zz")).isFalse();
    }

    @Test
    void retryDelaysAreJitteredWithinTwentyPercent() {
        List<Long> seen = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            long d = Channel.jitter(1000);
            assertThat(d).isBetween(800L, 1200L);
            seen.add(d);
        }
        assertThat(seen.stream().distinct().count()).isGreaterThan(100);
    }
}
