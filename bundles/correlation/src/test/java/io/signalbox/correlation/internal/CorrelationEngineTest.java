package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.TestMessages.config;
import static io.signalbox.correlation.internal.TestMessages.event;
import static io.signalbox.correlation.internal.TestMessages.info;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Router;

class CorrelationEngineTest {
    private final FakeClock clock = new FakeClock();
    private final List<CorrelationEngine> started = new ArrayList<>();

    @AfterEach
    void stopEngines() {
        started.forEach(CorrelationEngine::deactivate);
    }

    private CorrelationEngine engine(Router router, Map<String, ?> props) {
        CorrelationEngine e = new CorrelationEngine(config(props), props, router, clock::millis, clock::nanos, false);
        started.add(e);
        return e;
    }

    @Test
    void bufferIsFlushedWhenItReachesBatchSize() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 3));

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        engine.offer(info("b", "b1"));
        assertThat(router.batchCount()).isZero();

        engine.offer(info("a", "a3"));

        assertThat(router.batches()).singleElement().satisfies(b -> assertThat(b.source()).isEqualTo("a"));
        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3");
        assertThat(engine.stats()).containsEntry("signalbox_batches_flushed_total{reason=\"size\"}", 1L);
    }

    @Test
    void bufferIsFlushedWhenItsOldestMessageReachesFlushInterval() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("flush.interval.ms", 5000));

        engine.offer(info("a", "a1"));
        clock.advanceMillis(3000);
        engine.offer(info("a", "a2"));
        clock.advanceMillis(1999);
        engine.tick();
        assertThat(router.batchCount()).isZero();

        clock.advanceMillis(1);
        engine.tick();

        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(engine.stats()).containsEntry("signalbox_batches_flushed_total{reason=\"age\"}", 1L);
    }

    @Test
    void schedulerThreadFlushesAnAgedBufferWithoutFurtherMessages() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = new CorrelationEngine(config(Map.of("flush.interval.ms", 40)), router);
        started.add(engine);

        engine.offer(info("a", "a1"));

        awaitTrue(() -> router.batchCount() == 1);
        assertThat(router.linesOf("a")).containsExactly("a1");
    }

    @Test
    void criticalEventIsFlushedAtOnceWithEverythingBufferedBeforeItInOrder() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of());

        engine.offer(info("a", "a1"));
        engine.offer(event("a", "debug", "a2"));
        engine.offer(info("b", "b1"));
        engine.offer(event("a", "error", "a3"));
        engine.offer(info("a", "a4"));
        engine.offer(event("a", "fatal", "a5"));

        assertThat(router.batches()).extracting(Batch::size).containsExactly(3, 2);
        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3", "a4", "a5");
        assertThat(router.linesOf("b")).isEmpty();
        assertThat(engine.stats()).containsEntry("signalbox_batches_flushed_total{reason=\"critical\"}", 2L);
    }

    @Test
    void warnEventIsNotCritical() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of());

        engine.offer(event("a", "warn", "a1"));

        assertThat(router.batchCount()).isZero();
    }

    @Test
    void deactivateFlushesEveryBufferAndLaterOffersAreRoutedAtOnce() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = new CorrelationEngine(config(Map.of()), router, clock::millis, clock::nanos, false);

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        engine.offer(info("b", "b1"));
        engine.deactivate();

        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(router.linesOf("b")).containsExactly("b1");
        assertThat(engine.stats()).containsEntry("signalbox_batches_flushed_total{reason=\"shutdown\"}", 2L)
                .containsEntry("signalbox_pipeline_inflight", 0L);

        engine.offer(info("a", "late"));
        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "late");
    }

    @Test
    void concurrentProducersKeepPerSourceOrderWithoutLossOrDuplicates() throws Exception {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 7, "queue.capacity", 1000));
        int producers = 4;
        int perProducer = 20_000;
        String[] sources = { "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7" };
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int id = p;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perProducer; i++) {
                        // every 1000th message is critical: cuts batches out of the size rhythm
                        String level = i % 1000 == 999 ? "error" : "info";
                        engine.offer(event(sources[(i + id) % sources.length], level, id + ":" + i));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        engine.deactivate();
        started.remove(engine);

        int total = 0;
        for (String source : sources) {
            Map<Integer, Integer> lastSeqByProducer = new HashMap<>();
            for (String line : router.linesOf(source)) {
                int colon = line.indexOf(':');
                int producer = Integer.parseInt(line.substring(0, colon));
                int seq = Integer.parseInt(line.substring(colon + 1));
                Integer last = lastSeqByProducer.put(producer, seq);
                assertThat(last == null || seq > last)
                        .as("source %s producer %d: %d after %s", source, producer, seq, last).isTrue();
                total++;
            }
        }
        assertThat(total).isEqualTo(producers * perProducer);
        assertThat(router.concurrentRoutesOfOneSource()).isZero();
        assertThat(engine.stats()).containsEntry("signalbox_messages_ingested_total", (long) producers * perProducer)
                .containsEntry("signalbox_pipeline_inflight", 0L);
    }

    @Test
    void offerReturnsFalseAtCapacityYetAcceptsAndWhenWritableRunsOnceAfterDeliveryBelowResumeLevel() {
        RecordingRouter router = RecordingRouter.holdingDeliveries();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 5, "queue.capacity", 10, "resume.ratio", 0.5));

        for (int i = 0; i < 9; i++) {
            assertThat(engine.offer(info("a", "m" + i))).as("offer %d", i).isTrue();
        }
        assertThat(engine.offer(info("a", "m9"))).isFalse();
        assertThat(engine.isWritable()).isFalse();
        assertThat(engine.offer(info("a", "m10"))).as("still accepted above capacity").isFalse();

        AtomicInteger resumed = new AtomicInteger();
        engine.whenWritable(resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);

        router.deliverOldest(); // 11 - 5 = 6 in flight: above the resume level of 5
        assertThat(resumed).hasValue(0);
        assertThat(engine.isWritable()).isTrue();

        router.deliverOldest(); // 1 in flight
        assertThat(resumed).hasValue(1);

        engine.deactivate();
        started.remove(engine);
        assertThat(resumed).as("each callback runs once").hasValue(1);
        assertThat(router.linesOf("a")).hasSize(11);
        assertThat(engine.stats()).containsEntry("signalbox_pipeline_inflight", 1L);
    }

    @Test
    void producersPausedByBackPressureAreAlwaysResumedByAsynchronousDeliveries() throws Exception {
        ExecutorService deliverer = Executors.newSingleThreadExecutor();
        AtomicInteger routed = new AtomicInteger();
        Router asyncRouter = (batch, delivered) -> {
            routed.addAndGet(batch.size());
            deliverer.execute(delivered);
        };
        CorrelationEngine engine = engine(asyncRouter, Map.of("batch.size", 10, "queue.capacity", 50));
        int producers = 2;
        int perProducer = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        AtomicInteger pauses = new AtomicInteger();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                String source = "s" + p;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perProducer; i++) {
                        if (!engine.offer(info(source, Integer.toString(i)))) {
                            pauses.incrementAndGet();
                            CountDownLatch resumed = new CountDownLatch(1);
                            engine.whenWritable(resumed::countDown);
                            assertThat(resumed.await(10, TimeUnit.SECONDS)).as("resumed after pause").isTrue();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            engine.deactivate();
            started.remove(engine);
        } finally {
            pool.shutdownNow();
            deliverer.shutdown();
            assertThat(deliverer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(pauses.get()).isPositive();
        assertThat(routed).hasValue(producers * perProducer);
        assertThat(engine.stats()).containsEntry("signalbox_pipeline_inflight", 0L);
    }

    @Test
    void whilePausedTheTickFlushesBuffersThatAreNotYetFullOrOld() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 100, "queue.capacity", 10));
        for (int i = 0; i < 10; i++) {
            engine.offer(info("s" + (i % 5), "m" + i));
        }
        AtomicInteger resumed = new AtomicInteger();
        engine.whenWritable(resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);

        engine.tick();

        assertThat(router.batches()).hasSize(5);
        assertThat(resumed).hasValue(1);
    }

    @Test
    void whenWritableRunsAtOnceWhenThereIsRoom() {
        CorrelationEngine engine = engine(RecordingRouter.holdingDeliveries(), Map.of("queue.capacity", 10));
        engine.offer(info("a", "m"));

        AtomicInteger resumed = new AtomicInteger();
        engine.whenWritable(resumed::incrementAndGet);

        assertThat(resumed).hasValue(1);
    }

    @Test
    void aFailingRouterReleasesTheCapacityAndIsCounted() {
        Router failing = (batch, delivered) -> {
            throw new IllegalStateException("boom");
        };
        CorrelationEngine engine = engine(failing, Map.of("batch.size", 2, "queue.capacity", 10));

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));

        assertThat(engine.stats()).containsEntry("signalbox_pipeline_inflight", 0L)
                .containsEntry("signalbox_messages_route_failed_total", 2L);
        // the source is not stuck: the next batch is routed (and fails) too
        engine.offer(info("a", "a3"));
        engine.offer(info("a", "a4"));
        assertThat(engine.stats()).containsEntry("signalbox_messages_route_failed_total", 4L);
    }

    @Test
    void deliveredCallbackRunTwiceReleasesOnlyOnce() {
        List<Runnable> callbacks = new ArrayList<>();
        CorrelationEngine engine = engine((batch, delivered) -> callbacks.add(delivered), Map.of("batch.size", 2));
        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        engine.offer(info("a", "a3"));

        callbacks.get(0).run();
        callbacks.get(0).run();

        assertThat(engine.stats()).containsEntry("signalbox_pipeline_inflight", 1L);
    }

    @Test
    void idleSourceIsRetiredAndComesBackWithItsNextMessage() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 1));
        engine.offer(info("a", "a1"));
        assertThat(engine.stats()).containsEntry("signalbox_sources_active", 1);

        clock.advanceMillis(TimeUnit.MINUTES.toMillis(CorrelationEngine.SOURCE_IDLE_MINUTES) + 1);
        engine.tick();
        assertThat(engine.stats()).containsEntry("signalbox_sources_active", 0);

        engine.offer(info("a", "a2"));
        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(engine.stats()).containsEntry("signalbox_sources_active", 1);
    }

    @Test
    void modifiedConfigurationAppliesWithoutLosingBufferedMessages() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 100));
        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));

        Map<String, Object> changed = Map.of("batch.size", 3, "queue.capacity", 50);
        assertThat(engine.reconfigure(config(changed), changed)).isTrue();
        engine.offer(info("a", "a3"));

        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3");
        assertThat(engine.stats()).containsEntry("signalbox_pipeline_capacity", 50);
    }

    @Test
    void unknownKeyIsRejectedAtActivationWithDidYouMean() {
        assertThatThrownBy(() -> engine(RecordingRouter.deliveringAtOnce(),
                Map.of("batch.sise", 10, "felix.fileinstall.filename", "file:/x/etc/io.signalbox.correlation.cfg")))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("configuration io.signalbox.correlation (file:/x/etc/io.signalbox.correlation.cfg)"
                        + " rejected: unknown key 'batch.sise' (did you mean 'batch.size'?)");
    }

    @Test
    void valuesOfTheWrongTypeOrOutOfRangeAreRejectedNotClamped() {
        assertThatThrownBy(() -> engine(RecordingRouter.deliveringAtOnce(), Map.of("batch.size", "ten")))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("'batch.size' = 'ten' is not a valid int");
        assertThatThrownBy(() -> engine(RecordingRouter.deliveringAtOnce(), Map.of("resume.ratio", 1.5, "batch.size", 0)))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("batch.size must be >= 1, is 0")
                .hasMessageContaining("resume.ratio must be within 0..1, is 1.5");
    }

    @Test
    void invalidModificationKeepsThePreviousConfigurationInForce() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 2, "queue.capacity", 50));

        Map<String, Object> typo = Map.of("batch.size", 5, "queue.capacty", 10);
        Map<String, Object> outOfRange = Map.of("batch.size", 5, "resume.ratio", -1);
        Map<String, Object> badType = Map.of("batch.size", "many");
        assertThat(engine.reconfigure(config(typo), typo)).isFalse();
        assertThat(engine.reconfigure(config(outOfRange), outOfRange)).isFalse();
        assertThat(engine.reconfigure(config(badType), badType)).isFalse();

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        assertThat(router.batches()).as("batch.size=2 still applies").singleElement();
        assertThat(engine.stats()).containsEntry("signalbox_pipeline_capacity", 50);
    }

    @Test
    void validModificationIsAppliedLive() {
        RecordingRouter router = RecordingRouter.deliveringAtOnce();
        CorrelationEngine engine = engine(router, Map.of("batch.size", 2));

        Map<String, Object> changed = Map.of("batch.size", 3, "queue.capacity", 70,
                "service.pid", io.signalbox.api.Ingest.PID, "felix.fileinstall.filename", "file:/x/etc/io.signalbox.correlation.cfg");
        assertThat(engine.reconfigure(config(changed), changed)).isTrue();
        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        assertThat(router.batchCount()).isZero();
        engine.offer(info("a", "a3"));

        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3");
        assertThat(engine.stats()).containsEntry("signalbox_pipeline_capacity", 70);
    }

    @Test
    void statsNameEverySeries() {
        CorrelationEngine engine = engine(RecordingRouter.deliveringAtOnce(), Map.of());

        assertThat(engine.stats()).containsOnlyKeys(
                "signalbox_messages_ingested_total",
                "signalbox_pipeline_inflight",
                "signalbox_pipeline_capacity",
                "signalbox_batches_flushed_total{reason=\"size\"}",
                "signalbox_batches_flushed_total{reason=\"age\"}",
                "signalbox_batches_flushed_total{reason=\"critical\"}",
                "signalbox_batches_flushed_total{reason=\"shutdown\"}",
                "signalbox_sources_active",
                "signalbox_traces_held",
                "signalbox_traces_evicted_total",
                "signalbox_spans_dropped_total",
                "signalbox_messages_route_failed_total");
    }

    @Test
    void configTemplateListsEveryKeyWithItsDefault() throws IOException {
        String template = Files.readString(Path.of("src/main/cfg/io.signalbox.correlation.cfg"));
        CorrelationEngine.Config defaults = config(Map.of());

        assertThat(template)
                .contains("#batch.size = " + defaults.batch_size())
                .contains("#flush.interval.ms = " + defaults.flush_interval_ms())
                .contains("#queue.capacity = " + defaults.queue_capacity())
                .contains("#resume.ratio = " + defaults.resume_ratio())
                .contains("#trace.max.traces = " + defaults.trace_max_traces())
                .contains("#trace.ttl.seconds = " + defaults.trace_ttl_seconds())
                .contains("#trace.max.spans = " + defaults.trace_max_spans());
    }

    private static void awaitTrue(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("condition not met within 10 s").isNegative();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }
}
