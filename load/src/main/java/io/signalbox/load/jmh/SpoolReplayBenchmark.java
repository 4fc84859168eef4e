package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.routing.internal.RouteDefinition;
import io.signalbox.routing.internal.RoutingEngine;

/**
 * Replay of a backend's disk spool after an outage, the path every spooled message takes back:
 * 1,000,000 messages (10,000 batches of 100, ~170 bytes each) are spooled for an absent backend,
 * then a backend that only counts is bound and the time until the last message reached it is
 * measured ({@code replay.rate=0}, no limit). Each measured operation is one whole replay;
 * messages/s = 1,000,000 / score.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class SpoolReplayBenchmark {
    static final int BATCHES = 10_000;
    static final int BATCH = 100;
    static final long MESSAGES = (long) BATCHES * BATCH;

    private Path dir;
    private RoutingEngine engine;
    private CountingBackend backend;

    /** Counts what it receives; opens the latch once every spooled message arrived. */
    static final class CountingBackend implements Backend {
        final AtomicLong messages = new AtomicLong();
        volatile CountDownLatch done = new CountDownLatch(1);

        @Override
        public void write(Batch batch) {
            if (messages.addAndGet(batch.size()) >= MESSAGES) {
                done.countDown();
            }
        }
    }

    @Setup(Level.Iteration)
    public void fillSpool() throws IOException, InterruptedException {
        dir = Files.createTempDirectory("signalbox-replay-bench");
        engine = new RoutingEngine(Converters.standardConverter()
                .convert(Map.of("drain.timeout.seconds", 5, "spool.dir", dir.resolve("spool").toString(),
                        "deadletter.dir", dir.resolve("deadletter").toString(), "spool.max.mb", 1024, "replay.rate", 0,
                        "spool.fsync", "never"))
                .to(RoutingEngine.Config.class));
        engine.addRoute(RouteDefinition.of("all", "*", "db"));
        Semaphore spooled = new Semaphore(0);
        for (int i = 0; i < BATCHES; i++) {
            engine.route(ThroughputBenchmark.eventBatch("src-" + (i % 8), i, BATCH), spooled::release);
        }
        if (!spooled.tryAcquire(BATCHES, 5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the spool was not filled in 5 minutes");
        }
        backend = new CountingBackend();
    }

    /** Binds the backend and waits until the whole spool was replayed into it. */
    @Benchmark
    public long replay() throws InterruptedException {
        engine.bindBackend(backend, Map.of(Backend.NAME, "db"));
        if (!backend.done.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("replayed only " + backend.messages.get() + " of " + MESSAGES);
        }
        return backend.messages.get();
    }

    @TearDown(Level.Iteration)
    public void tearDown() throws IOException {
        engine.deactivate();
        ThroughputBenchmark.deleteTree(dir);
    }
}
