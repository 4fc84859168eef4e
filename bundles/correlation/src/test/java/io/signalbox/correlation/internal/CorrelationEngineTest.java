package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.Engines.metric;
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

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.MetricSamples;
import io.signalbox.api.Router;

class CorrelationEngineTest {
    private static final String FLUSHED = FlushCounters.SERIES;
    private static final String INFLIGHT = "signalbox_pipeline_inflight";
    private static final String CAPACITY = "signalbox_pipeline_capacity";
    private static final String ACTIVE = "signalbox_sources_active";

    @RegisterExtension
    final Engines engines = new Engines();
    private final FakeClock clock = engines.clock;
    /** Delivers every batch at once; tests that need another router pass it. */
    private final RecordingRouter router = RecordingRouter.deliveringAtOnce();

    private CorrelationEngine engine(Map<String, ?> props) {
        return engines.start(router, props);
    }

    private CorrelationEngine engine(Router other, Map<String, ?> props) {
        return engines.start(other, props);
    }

    @Test
    void bufferIsFlushedWhenItReachesBatchSize() {
        CorrelationEngine engine = engine(Map.of("batch.size", 3));

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        engine.offer(info("b", "b1"));
        assertThat(router.batchCount()).isZero();

        engine.offer(info("a", "a3"));

        assertThat(router.batches()).singleElement().satisfies(b -> assertThat(b.source()).isEqualTo("a"));
        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3");
        assertThat(metric(engine, FLUSHED, "reason", "size")).isEqualTo(1);
    }

    @Test
    void bufferIsFlushedWhenItsOldestMessageReachesFlushInterval() {
        CorrelationEngine engine = engine(Map.of("flush.interval.ms", 5000));

        engine.offer(info("a", "a1"));
        clock.advanceMillis(3000);
        engine.offer(info("a", "a2"));
        clock.advanceMillis(1999);
        engine.tick();
        assertThat(router.batchCount()).isZero();

        clock.advanceMillis(1);
        engine.tick();

        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(metric(engine, FLUSHED, "reason", "age")).isEqualTo(1);
    }

    @Test
    void schedulerThreadFlushesAnAgedBufferWithoutFurtherMessages() {
        CorrelationEngine engine = new CorrelationEngine(config(Map.of("flush.interval.ms", 40)), router);
        try {
            engine.offer(info("a", "a1"));

            awaitTrue(() -> router.batchCount() == 1);
            assertThat(router.linesOf("a")).containsExactly("a1");
        } finally {
            engine.deactivate();
        }
    }

    @Test
    void criticalEventIsFlushedAtOnceWithEverythingBufferedBeforeItInOrder() {
        CorrelationEngine engine = engine(Map.of());

        engine.offer(info("a", "a1"));
        engine.offer(event("a", "debug", "a2"));
        engine.offer(info("b", "b1"));
        engine.offer(event("a", "error", "a3"));
        engine.offer(info("a", "a4"));
        engine.offer(event("a", "fatal", "a5"));

        assertThat(router.batches()).extracting(Batch::size).containsExactly(3, 2);
        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3", "a4", "a5");
        assertThat(router.linesOf("b")).isEmpty();
        assertThat(metric(engine, FLUSHED, "reason", "critical")).isEqualTo(2);
    }

    @Test
    void offerAndFlushCutsTheSourcesBatchAtOnceInOrder() {
        CorrelationEngine engine = engine(Map.of());

        engine.offer(info("a", "a1"));
        engine.offer(info("b", "b1"));
        engine.offerAndFlush(event("a", "warn", "a2"));

        assertThat(router.batches()).extracting(Batch::size).containsExactly(2);
        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(router.linesOf("b")).isEmpty();
    }

    @Test
    void ingestListenersSeeEveryMessageBeforeItIsBatchedAndAThrowingOneCostsNothing() {
        CorrelationEngine engine = engine(Map.of());
        List<String> seen = new ArrayList<>();
        engine.listeners = List.of(m -> {
            throw new IllegalStateException("boom");
        }, m -> seen.add(m.toString()));

        engine.offer(info("a", "a1"));
        engine.offerAndFlush(info("a", "a2"));

        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).contains("a1");
        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
    }

    @Test
    void warnEventIsNotCritical() {
        CorrelationEngine engine = engine(Map.of());

        engine.offer(event("a", "warn", "a1"));

        assertThat(router.batchCount()).isZero();
    }

    @Test
    void deactivateFlushesEveryBufferAndLaterOffersAreRoutedAtOnce() {
        CorrelationEngine engine = engine(Map.of());

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        engine.offer(info("b", "b1"));
        engines.stop(engine);

        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(router.linesOf("b")).containsExactly("b1");
        assertThat(metric(engine, FLUSHED, "reason", "shutdown")).isEqualTo(2);
        assertThat(metric(engine, INFLIGHT)).isZero();

        engine.offer(info("a", "late"));
        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "late");
    }

    @Test
    void concurrentProducersKeepPerSourceOrderWithoutLossOrDuplicates() throws Exception {
        CorrelationEngine engine = engine(Map.of("batch.size", 7, "queue.capacity", 1000));
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
        engines.stop(engine);

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
        assertThat(metric(engine, "signalbox_messages_ingested_total")).isEqualTo(producers * perProducer);
        assertThat(metric(engine, INFLIGHT)).isZero();
    }

    @Test
    void offerReturnsFalseAtCapacityYetAcceptsAndWhenWritableRunsOnceAfterDeliveryBelowResumeLevel() {
        RecordingRouter holding = RecordingRouter.holdingDeliveries();
        CorrelationEngine engine = engine(holding, Map.of("batch.size", 5, "queue.capacity", 10, "resume.ratio", 0.5));

        for (int i = 0; i < 9; i++) {
            assertThat(engine.offer(info("a", "m" + i))).as("offer %d", i).isTrue();
        }
        assertThat(engine.offer(info("a", "m9"))).isFalse();
        assertThat(engine.isWritable()).isFalse();
        assertThat(engine.offer(info("a", "m10"))).as("still accepted above capacity").isFalse();

        AtomicInteger resumed = new AtomicInteger();
        engine.whenWritable(resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);

        holding.deliverOldest(); // 11 - 5 = 6 in flight: above the resume level of 5
        assertThat(resumed).hasValue(0);
        assertThat(engine.isWritable()).isTrue();

        holding.deliverOldest(); // 1 in flight
        assertThat(resumed).hasValue(1);

        engines.stop(engine);
        assertThat(resumed).as("each callback runs once").hasValue(1);
        assertThat(holding.linesOf("a")).hasSize(11);
        assertThat(metric(engine, INFLIGHT)).isEqualTo(1);
    }

    @Test
    void largeLinesPauseTheTransportsAtTheByteBudgetLongBeforeTheMessageCapacity() {
        RecordingRouter holding = RecordingRouter.holdingDeliveries();
        CorrelationEngine engine = engine(holding, Map.of("batch.size", 4, "queue.capacity", 1000, "queue.max.mb", 1));
        String big = "x".repeat(100 * 1024); // 100 KiB + the overhead each: the 11th crosses 1 MiB

        for (int i = 0; i < 10; i++) {
            assertThat(engine.offer(info("a", big))).as("offer %d", i).isTrue();
        }
        assertThat(engine.offer(info("a", big))).isFalse();
        assertThat(engine.isWritable()).isFalse();
        assertThat(metric(engine, "signalbox_pipeline_inflight_bytes")).isEqualTo(11L * InFlight.weight(info("a", big)));
        assertThat(metric(engine, "signalbox_pipeline_capacity_bytes")).isEqualTo(1024L * 1024);

        AtomicInteger resumed = new AtomicInteger();
        engine.whenWritable(resumed::incrementAndGet);
        holding.deliverOldest(); // 7 messages left: ~702 KiB, above the resume level of 512 KiB
        assertThat(resumed).hasValue(0);
        holding.deliverOldest(); // 3 left (the last, partial batch is still buffered)
        assertThat(resumed).hasValue(1);

        engines.stop(engine);
        assertThat(holding.linesOf("a")).hasSize(11);
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
            engines.stop(engine);
        } finally {
            pool.shutdownNow();
            deliverer.shutdown();
            assertThat(deliverer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(pauses.get()).isPositive();
        assertThat(routed).hasValue(producers * perProducer);
        assertThat(metric(engine, INFLIGHT)).isZero();
    }

    @Test
    void whilePausedTheTickFlushesBuffersThatAreNotYetFullOrOld() {
        CorrelationEngine engine = engine(Map.of("batch.size", 100, "queue.capacity", 10));
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

        assertThat(metric(engine, INFLIGHT)).isZero();
        assertThat(metric(engine, "signalbox_messages_route_failed_total")).isEqualTo(2);
        // the source is not stuck: the next batch is routed (and fails) too
        engine.offer(info("a", "a3"));
        engine.offer(info("a", "a4"));
        assertThat(metric(engine, "signalbox_messages_route_failed_total")).isEqualTo(4);
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

        assertThat(metric(engine, INFLIGHT)).isEqualTo(1);
    }

    @Test
    void idleSourceIsRetiredAndComesBackWithItsNextMessage() {
        CorrelationEngine engine = engine(Map.of("batch.size", 1));
        engine.offer(info("a", "a1"));
        assertThat(metric(engine, ACTIVE)).isEqualTo(1);

        clock.advanceMillis(TimeUnit.MINUTES.toMillis(CorrelationEngine.SOURCE_IDLE_MINUTES) + 1);
        engine.tick();
        assertThat(metric(engine, ACTIVE)).isZero();

        engine.offer(info("a", "a2"));
        assertThat(router.linesOf("a")).containsExactly("a1", "a2");
        assertThat(metric(engine, ACTIVE)).isEqualTo(1);
    }

    @Test
    void modifiedConfigurationAppliesWithoutLosingBufferedMessages() {
        CorrelationEngine engine = engine(Map.of("batch.size", 100));
        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));

        Map<String, Object> changed = Map.of("batch.size", 3, "queue.capacity", 50);
        assertThat(engine.reconfigure(config(changed), changed)).isTrue();
        engine.offer(info("a", "a3"));

        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3");
        assertThat(metric(engine, CAPACITY)).isEqualTo(50);
    }

    @Test
    void unknownKeyIsRejectedAtActivationWithDidYouMeanAndCounted() {
        long rejected = ConfigCheck.rejectionCount();
        assertThatThrownBy(() -> engine(
                Map.of("batch.sise", 10, "felix.fileinstall.filename", "file:/x/etc/io.signalbox.correlation.cfg")))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("configuration io.signalbox.correlation (file:/x/etc/io.signalbox.correlation.cfg)"
                        + " rejected: unknown key 'batch.sise' (did you mean 'batch.size'?)");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejected + 1);
        assertThat(ConfigCheck.lastRejection()).hasValueSatisfying(
                r -> assertThat(r.message()).contains("unknown key 'batch.sise'"));
    }

    @Test
    void valuesOfTheWrongTypeOrOutOfRangeAreRejectedNotClamped() {
        assertThatThrownBy(() -> engine(Map.of("batch.size", "ten")))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("'batch.size' = 'ten' is not a valid int");
        assertThatThrownBy(() -> engine(Map.of("resume.ratio", 1.5, "batch.size", 0)))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'batch.size' must be >= 1, is 0")
                .hasMessageContaining("'resume.ratio' must be 0..1, is 1.5");
    }

    @Test
    void invalidModificationKeepsThePreviousConfigurationInForce() {
        CorrelationEngine engine = engine(Map.of("batch.size", 2, "queue.capacity", 50));

        Map<String, Object> typo = Map.of("batch.size", 5, "queue.capacty", 10);
        Map<String, Object> outOfRange = Map.of("batch.size", 5, "resume.ratio", -1);
        Map<String, Object> badType = Map.of("batch.size", "many");
        long rejected = ConfigCheck.rejectionCount();
        assertThat(engine.reconfigure(config(typo), typo)).isFalse();
        assertThat(engine.reconfigure(config(outOfRange), outOfRange)).isFalse();
        assertThat(engine.reconfigure(config(badType), badType)).isFalse();
        assertThat(ConfigCheck.rejectionCount()).as("each rejection is counted").isEqualTo(rejected + 3);

        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        assertThat(router.batches()).as("batch.size=2 still applies").singleElement();
        assertThat(metric(engine, CAPACITY)).isEqualTo(50);
    }

    @Test
    void validModificationIsAppliedLive() {
        CorrelationEngine engine = engine(Map.of("batch.size", 2));

        Map<String, Object> changed = Map.of("batch.size", 3, "queue.capacity", 70,
                "service.pid", io.signalbox.api.Ingest.PID, "felix.fileinstall.filename", "file:/x/etc/io.signalbox.correlation.cfg");
        assertThat(engine.reconfigure(config(changed), changed)).isTrue();
        engine.offer(info("a", "a1"));
        engine.offer(info("a", "a2"));
        assertThat(router.batchCount()).isZero();
        engine.offer(info("a", "a3"));

        assertThat(router.linesOf("a")).containsExactly("a1", "a2", "a3");
        assertThat(metric(engine, CAPACITY)).isEqualTo(70);
    }

    @Test
    void metricsNameEverySeriesWithItsTypeAndLabels() {
        CorrelationEngine engine = engine(Map.of());
        engine.offer(info("a", "a1"));

        assertThat(MetricSamples.of(engine).all()).extracting(s -> s.type() + " " + s.name() + s.labels())
                .containsExactly(
                        "COUNTER signalbox_messages_ingested_total{}",
                        "GAUGE signalbox_pipeline_inflight{}",
                        "GAUGE signalbox_pipeline_capacity{}",
                        "GAUGE signalbox_pipeline_inflight_bytes{}",
                        "GAUGE signalbox_pipeline_capacity_bytes{}",
                        "COUNTER signalbox_batches_flushed_total{reason=size}",
                        "COUNTER signalbox_batches_flushed_total{reason=age}",
                        "COUNTER signalbox_batches_flushed_total{reason=critical}",
                        "COUNTER signalbox_batches_flushed_total{reason=shutdown}",
                        "GAUGE signalbox_sources_active{}",
                        "GAUGE signalbox_traces_held{}",
                        "COUNTER signalbox_traces_evicted_total{}",
                        "COUNTER signalbox_spans_dropped_total{}",
                        "COUNTER signalbox_messages_route_failed_total{}",
                        "COUNTER signalbox_messages_received_total{source=a}",
                        "GAUGE signalbox_buffer_size{source=a}");
    }

    @Test
    void configTemplateListsEveryKeyWithItsDefault() throws IOException {
        String template = Files.readString(Path.of("src/main/cfg/io.signalbox.correlation.cfg"));
        CorrelationEngine.Config defaults = config(Map.of());

        assertThat(template)
                .contains("#batch.size = " + defaults.batch_size())
                .contains("#flush.interval.ms = " + defaults.flush_interval_ms())
                .contains("#queue.capacity = " + defaults.queue_capacity())
                .contains("#queue.max.mb = " + defaults.queue_max_mb())
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
