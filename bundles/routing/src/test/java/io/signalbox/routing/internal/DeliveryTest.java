package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.await;
import static io.signalbox.routing.internal.TestSupport.backendStat;
import static io.signalbox.routing.internal.TestSupport.bind;
import static io.signalbox.routing.internal.TestSupport.events;
import static io.signalbox.routing.internal.TestSupport.range;
import static io.signalbox.routing.internal.TestSupport.seqs;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;

/** The channel's delivery guarantees: breaker, bounded queue, dead letters, shutdown into the spool. */
class DeliveryTest {
    @RegisterExtension
    final TestSupport.Engines engines = new TestSupport.Engines();

    private RoutingEngine engine(Object... settings) {
        return engines.start(settings);
    }

    private void route(RoutingEngine engine, Batch batch) {
        engines.route(engine, batch);
    }

    /** Binds {@code db} as backend {@code db} and routes {@code batches} batches of ten events (0, 1 …) to it. */
    private void routeTo(RoutingEngine engine, Backend db, int batches) {
        bind(engine, "db", db);
        engine.addRoute(RouteDefinition.of("all", "*", "db"));
        for (int i = 0; i < batches; i++) {
            route(engine, events("svc", i * 10, 10));
        }
    }

    /** Stops {@code first} after its callbacks ran and checks that the next start replays the hundred events in order. */
    private void assertReplayedByTheNextStart(RoutingEngine first) {
        engines.stop(first);
        assertThat(engines.delivered()).isEqualTo(10);
        RoutingEngine second = engine();
        SwitchableBackend up = new SwitchableBackend();
        routeTo(second, up, 0);
        await("replayed after the restart", () -> up.written().size() == 100);
        assertThat(seqs(up.written())).isEqualTo(range(0, 100));
    }

    /** Fails every write while down. */
    static class SwitchableBackend implements Backend {
        final AtomicBoolean down = new AtomicBoolean();
        final AtomicInteger attempts = new AtomicInteger();
        final List<Message> written = new ArrayList<>();

        /** A backend that is down until {@code down.set(false)}. */
        static SwitchableBackend failing() {
            SwitchableBackend b = new SwitchableBackend();
            b.down.set(true);
            return b;
        }

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
        SwitchableBackend db = SwitchableBackend.failing();
        routeTo(engine, db, 20);
        // open: every batch is in the spool and its callback ran, although nothing was written
        engines.await(engine, "breaker open and everything spooled",
                () -> backendStat(engine, "signalbox_backend_breaker_state", "db") == 2 && engines.delivered() == 20
                        && backendStat(engine, "signalbox_spool_messages", "db") == 200);
        assertThat(db.written()).isEmpty();
        assertThat(backendStat(engine, "signalbox_backend_breaker_opened_total", "db")).isEqualTo(1);
        assertThat(backendStat(engine, "signalbox_messages_routed_total", "db")).isEqualTo(200);
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db"))
                .as("spooled is not written").isZero();

        db.down.set(false);
        await("breaker closed and the spool replayed", () -> db.written().size() == 200
                && backendStat(engine, "signalbox_backend_breaker_state", "db") == 0);
        assertThat(seqs(db.written())).isEqualTo(range(0, 200));
        assertThat(backendStat(engine, "signalbox_spool_replayed_messages_total", "db")).isEqualTo(200);
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db")).isEqualTo(200);
        await("spool empty", () -> backendStat(engine, "signalbox_spool_messages", "db") == 0);

        // closed again: new traffic goes straight to the backend, after what was spooled
        route(engine, events("svc", 200, 10));
        await("new batch written", () -> db.written().size() == 210);
        assertThat(seqs(db.written())).isEqualTo(range(0, 210));
    }

    @Test
    void aProbeThatFailsOpensTheBreakerAgainWithoutLosingOrReorderingAnything() {
        RoutingEngine engine = engine("breaker.failures", 2, "breaker.open.ms", 50);
        SwitchableBackend db = SwitchableBackend.failing();
        routeTo(engine, db, 5);
        int before = db.attempts.get();
        await("several probes failed", () -> db.attempts.get() >= before + 5);
        assertThat(backendStat(engine, "signalbox_backend_breaker_opened_total", "db")).isEqualTo(1);
        assertThat(engines.delivered()).isEqualTo(5);
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
        routeTo(engine, flaky, 20);
        engines.await(engine, "everything written", () -> flaky.written().size() == 200);
        assertThat(backendStat(engine, "signalbox_backend_breaker_opened_total", "db")).isPositive();
        assertThat(seqs(flaky.written())).isEqualTo(range(0, 200));
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
        engines.await(engine, "all but the bound spooled", () -> {
            long queued = backendStat(engine, "signalbox_channel_queued_messages", "slow");
            return fast.messageCount() == 1000 && queued <= 50
                    && queued + backendStat(engine, "signalbox_spool_messages", "slow") == 1000
                    && engines.delivered() == 100 - queued / 10;
        });
        assertThat(slow.messageCount()).isZero();

        slow.open();
        await("slow caught up", () -> slow.messageCount() == 1000 && engines.delivered() == 100);
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
        await("delivered", () -> engines.delivered() == 3);
        assertThat(seqs(ok.messages())).isEqualTo(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 20L, 21L, 22L, 23L, 24L,
                25L, 26L, 27L, 28L, 29L));
        assertThat(backendStat(engine, "signalbox_deadletter_messages_total", "picky")).isEqualTo(10);
        assertThat(backendStat(engine, "signalbox_backend_write_failures_total", "picky")).isZero();
        assertThat(backendStat(engine, "signalbox_backend_breaker_state", "picky")).isZero();

        Path file = engines.dir().resolve("deadletter/picky/" + LocalDate.now(ZoneOffset.UTC) + ".jsonl");
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(10);
        for (int i = 0; i < 10; i++) {
            String raw = new String(TestSupport.message("svc", MessageType.EVENT, 10 + i).line(),
                    StandardCharsets.UTF_8);
            assertThat(lines.get(i)).matches("\\{\"ts\":\\d{13},\"backend\":\"picky\",.*")
                    .contains(",\"reason\":\"HTTP 422: \\\"value\\\" is not a number\",")
                    .endsWith(",\"message\":" + raw + "}");
        }
    }

    @Test
    void whatIsQueuedWhileTheBreakerIsOpenAtShutdownIsReplayedByTheNextStart() {
        RoutingEngine first = engine("breaker.failures", 1, "breaker.open.ms", 60_000);
        routeTo(first, SwitchableBackend.failing(), 10);
        await("breaker open", () -> backendStat(first, "signalbox_backend_breaker_state", "db") == 2);
        assertReplayedByTheNextStart(first);
    }

    @Test
    void whatAHungBackendStillHoldsAfterTheDrainTimeoutIsSpooledAndReplayedByTheNextStart() {
        RoutingEngine first = engine("drain.timeout.seconds", 1);
        FakeBackend hung = new FakeBackend().gated();
        routeTo(first, hung, 10);
        await("first write started", () -> hung.attempts() == 1);
        assertReplayedByTheNextStart(first);
        hung.open();
    }

    @Test
    void foreignFilesAndDirectoriesInTheSpoolDirectoryAreIgnoredAndCountedNotReplayed() throws Exception {
        Path spool = engines.dir().resolve("spool");
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
        routeTo(engine, db, 1);
        await("delivered", () -> db.written().size() == 10);
        assertThat(backendStat(engine, "signalbox_spool_ignored_files", "db")).isEqualTo(1);
        assertThat(backendStat(engine, "signalbox_spool_corrupt_records_total", "db")).isEqualTo(1);
        assertThat(MetricSamples.of(engine).all()).extracting(sample -> sample.label("backend"))
                .containsOnly("db", null);
        assertThat(Files.exists(spool.resolve("db/notes.txt"))).isTrue();
        assertThat(SpoolFiles.isDirectoryName("x_20y_25z")).isTrue();
        assertThat(SpoolFiles.isDirectoryName("x y%z")).isFalse();
        assertThat(SpoolFiles.isDirectoryName("_zz")).isFalse();
    }
}
