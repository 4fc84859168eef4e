package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.await;
import static io.signalbox.routing.internal.TestSupport.backendStat;
import static io.signalbox.routing.internal.TestSupport.bind;
import static io.signalbox.routing.internal.TestSupport.events;
import static io.signalbox.routing.internal.TestSupport.range;
import static io.signalbox.routing.internal.TestSupport.seqs;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.AsyncBackend;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;

/** A channel to an {@link AsyncBackend}: up to {@code max.in.flight} batches outstanding, with every guarantee kept. */
class InFlightTest {
    @RegisterExtension
    final TestSupport.Engines engines = new TestSupport.Engines();

    /**
     * Records every call. {@link #writeAsync} returns a stage the test completes, or, in
     * {@link #autoComplete} mode, one completed at once (failed while {@link #down}).
     */
    static final class PendingBackend implements AsyncBackend {
        record Call(Batch batch, CompletableFuture<Void> future) {
        }

        final List<Call> calls = new ArrayList<>();
        final List<Message> written = new ArrayList<>();
        final List<Batch> syncWrites = new ArrayList<>();
        final AtomicBoolean down = new AtomicBoolean();
        final AtomicInteger outstanding = new AtomicInteger();
        final AtomicInteger mostOutstanding = new AtomicInteger();
        final boolean autoComplete;

        PendingBackend(boolean autoComplete) {
            this.autoComplete = autoComplete;
        }

        @Override
        public CompletionStage<Void> writeAsync(Batch batch) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            synchronized (this) {
                calls.add(new Call(batch, f));
            }
            if (autoComplete) {
                if (down.get()) {
                    f.completeExceptionally(new IOException("broker away (simulated)"));
                } else {
                    accept(batch);
                    f.complete(null);
                }
                return f;
            }
            mostOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
            return f;
        }

        @Override
        public void write(Batch batch) throws IOException {
            synchronized (this) {
                syncWrites.add(batch);
            }
            if (down.get()) {
                throw new IOException("broker away (simulated)");
            }
            accept(batch);
        }

        private synchronized void accept(Batch batch) {
            written.addAll(batch.messages());
        }

        synchronized int callCount() {
            return calls.size();
        }

        synchronized Call call(int i) {
            return calls.get(i);
        }

        /** Acknowledges call {@code i}: its messages count as written by the target. */
        void ack(int i) {
            Call c = call(i);
            accept(c.batch());
            outstanding.decrementAndGet();
            c.future().complete(null);
        }

        void fail(int i, Exception e) {
            outstanding.decrementAndGet();
            call(i).future().completeExceptionally(e);
        }

        synchronized List<Message> written() {
            return new ArrayList<>(written);
        }

        synchronized List<Batch> syncWrites() {
            return new ArrayList<>(syncWrites);
        }
    }

    private RoutingEngine engineWith(PendingBackend db, int batches, Object... settings) {
        RoutingEngine engine = engines.start(settings);
        bind(engine, "db", db);
        engine.addRoute(RouteDefinition.of("all", "*", "db"));
        for (int i = 0; i < batches; i++) {
            engines.route(engine, events("svc", i * 10, 10));
        }
        return engine;
    }

    private static List<Long> sorted(List<Message> messages) {
        List<Long> s = seqs(messages);
        s.sort(Comparator.naturalOrder());
        return s;
    }

    @Test
    void upToMaxInFlightBatchesAreOutstandingAndEachCountsWhenItsOwnCompletionArrives() {
        PendingBackend db = new PendingBackend(false);
        RoutingEngine engine = engineWith(db, 10, "max.in.flight", 4);

        engines.await(engine, "4 batches in flight", () -> backendStat(engine, "signalbox_channel_in_flight_batches", "db") == 4);
        assertThat(db.callCount()).as("the window is full: no fifth batch").isEqualTo(4);
        assertThat(engines.delivered()).isZero();
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db")).isZero();

        // out of order: the third completes first; it alone counts, and one more batch is started
        db.ack(2);
        engines.await(engine, "a fifth batch started", () -> db.callCount() == 5);
        engines.await(engine, "the third delivered", () -> engines.delivered() == 1);
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db")).isEqualTo(10);
        assertThat(backendStat(engine, "signalbox_channel_queued_messages", "db")).as("9 batches not acknowledged")
                .isEqualTo(90);

        for (int i : new int[] {4, 1, 0, 3}) {
            db.ack(i);
        }
        for (int next = 5; next < 10; next++) {
            int n = next + 1;
            engines.await(engine, n + " batches started", () -> db.callCount() >= n);
            db.ack(next);
        }
        engines.await(engine, "everything delivered", () -> engines.delivered() == 10
                && backendStat(engine, "signalbox_channel_in_flight_batches", "db") == 0);
        assertThat(sorted(db.written())).isEqualTo(range(0, 100));
        assertThat(db.callCount()).as("each batch written once").isEqualTo(10);
        assertThat(db.mostOutstanding.get()).isEqualTo(4);
        assertThat(db.syncWrites()).isEmpty();
        assertThat(backendStat(engine, "signalbox_backend_batches_written_total", "db")).isEqualTo(10);
        assertThat(backendStat(engine, "signalbox_channel_queued_messages", "db")).isZero();
    }

    @Test
    void aFailedBatchInTheMiddleIsRetriedWhileTheOthersSucceed() {
        PendingBackend db = new PendingBackend(false);
        RoutingEngine engine = engineWith(db, 4, "max.in.flight", 4);
        engines.await(engine, "4 batches in flight", () -> db.callCount() == 4);
        Batch second = db.call(1).batch();

        db.fail(1, new IOException("not acknowledged (simulated)"));
        engines.await(engine, "failure counted", () -> backendStat(engine, "signalbox_backend_write_failures_total", "db") == 1);
        assertThat(db.callCount()).as("after a failure one batch at a time: the retry waits for a success").isEqualTo(4);
        db.ack(0);
        db.ack(2);
        db.ack(3);

        // (the first success reopens the window, so the retry may start before all three are reported)
        engines.await(engine, "the failed batch retried and the others delivered",
                () -> db.callCount() == 5 && engines.delivered() == 3);
        assertThat(db.call(4).batch()).isSameAs(second);
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db"))
                .as("the failed batch does not count yet").isEqualTo(30);
        db.ack(4);
        engines.await(engine, "everything delivered", () -> engines.delivered() == 4);
        assertThat(sorted(db.written())).as("every message once").isEqualTo(range(0, 40));
        assertThat(seqs(db.written()).subList(30, 40)).as("order across the retry is not kept").isEqualTo(range(10, 20));
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db")).isEqualTo(40);
        assertThat(backendStat(engine, "signalbox_backend_breaker_state", "db")).isZero();

        // a success restores the window
        for (int i = 4; i < 8; i++) {
            engines.route(engine, events("svc", i * 10, 10));
        }
        engines.await(engine, "4 more in flight", () -> db.callCount() == 9);
    }

    @Test
    void aBatchRefusedAsInvalidGoesToTheDeadLetterFile() {
        PendingBackend db = new PendingBackend(false);
        RoutingEngine engine = engineWith(db, 2, "max.in.flight", 4);
        engines.await(engine, "2 batches in flight", () -> db.callCount() == 2);
        db.fail(0, new BatchRejectedException("record too large (simulated)"));
        db.ack(1);
        engines.await(engine, "both done", () -> engines.delivered() == 2);
        assertThat(backendStat(engine, "signalbox_deadletter_messages_total", "db")).isEqualTo(10);
        assertThat(backendStat(engine, "signalbox_backend_write_failures_total", "db")).isZero();
        assertThat(db.callCount()).as("not retried").isEqualTo(2);
    }

    @Test
    void failuresOfBatchesInFlightOpenTheBreakerAndNothingIsLost() {
        PendingBackend db = new PendingBackend(true);
        db.down.set(true);
        RoutingEngine engine = engineWith(db, 20, "max.in.flight", 4, "breaker.failures", 3, "breaker.open.ms", 200);
        engines.await(engine, "breaker open, everything spooled or held",
                () -> backendStat(engine, "signalbox_backend_breaker_state", "db") == 2
                        && backendStat(engine, "signalbox_spool_messages", "db")
                                + backendStat(engine, "signalbox_channel_queued_messages", "db") == 200
                        && backendStat(engine, "signalbox_channel_in_flight_batches", "db") == 0);
        assertThat(db.written()).isEmpty();
        assertThat(backendStat(engine, "signalbox_backend_breaker_opened_total", "db")).isEqualTo(1);

        db.down.set(false);
        engines.await(engine, "breaker closed, everything written", () -> db.written().size() >= 200
                && backendStat(engine, "signalbox_backend_breaker_state", "db") == 0
                && backendStat(engine, "signalbox_spool_messages", "db") == 0 && engines.delivered() == 20);
        assertThat(sorted(db.written())).as("every message exactly once").isEqualTo(range(0, 200));
    }

    @Test
    void stopWithBatchesInFlightSpoolsThemAndTheNextStartReplaysThem() {
        PendingBackend db = new PendingBackend(false);
        RoutingEngine first = engineWith(db, 10, "max.in.flight", 4, "drain.timeout.seconds", 0);
        engines.await(first, "4 batches in flight", () -> db.callCount() == 4);

        engines.stop(first);
        assertThat(engines.delivered()).as("every batch spooled, those in flight included").isEqualTo(10);
        // the acknowledgements arriving after the stop are ignored: the batches are in the spool
        for (int i = 0; i < 4; i++) {
            db.ack(i);
        }
        assertThat(engines.delivered()).isEqualTo(10);

        PendingBackend up = new PendingBackend(false);
        RoutingEngine second = engineWith(up, 0, "max.in.flight", 4);
        await("replayed after the restart", () -> up.written().size() == 100);
        assertThat(seqs(up.written())).as("the spool is replayed in order, one batch at a time").isEqualTo(range(0, 100));
        assertThat(up.callCount()).as("replayed with write()").isZero();
        assertThat(backendStat(second, "signalbox_spool_replayed_messages_total", "db")).isEqualTo(100);
    }

    @Test
    void drainWaitsForTheBatchesInFlight() throws InterruptedException {
        PendingBackend db = new PendingBackend(false);
        RoutingEngine engine = engineWith(db, 3, "max.in.flight", 4, "drain.timeout.seconds", 30);
        engines.await(engine, "3 batches in flight", () -> db.callCount() == 3);
        Thread stopping = new Thread(() -> engines.stop(engine));
        stopping.start();
        for (int i = 0; i < 3; i++) {
            db.ack(i);
        }
        stopping.join(20_000);
        assertThat(stopping.isAlive()).isFalse();
        assertThat(engines.delivered()).isEqualTo(3);
        assertThat(backendStat(engine, "signalbox_backend_messages_written_total", "db")).isEqualTo(30);
        assertThat(backendStat(engine, "signalbox_spool_appended_messages_total", "db")).as("written, not spooled").isZero();
    }

    @Test
    void oneInFlightWritesOneBatchAtATimeWithWriteAsBefore() {
        PendingBackend db = new PendingBackend(false);
        RoutingEngine engine = engineWith(db, 10, "max.in.flight", 1);
        engines.await(engine, "everything delivered", () -> engines.delivered() == 10);
        assertThat(seqs(db.written())).as("in order").isEqualTo(range(0, 100));
        assertThat(db.callCount()).as("writeAsync never used").isZero();
        assertThat(db.syncWrites()).hasSize(10);
        assertThat(backendStat(engine, "signalbox_channel_in_flight_batches", "db")).isZero();
    }
}
