package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.routing.internal.RouteDefinition;
import io.signalbox.routing.internal.RoutingEngine;

/**
 * Spooling throughput of the routing engine: batches of 100 ~170-byte events of 8 sources
 * routed to a backend that is absent, so its channel appends every batch to the disk spool
 * (in a temporary directory, capped at 256 MiB so the oldest segments are dropped as in a
 * long outage) and runs the {@code delivered} callback once it is there. In-flight batches
 * are bounded by a semaphore as correlation bounds them. One op = one batch of 100 messages.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar SpoolAppendBenchmark -f 1 -wi 2 -i 3}
 */
public class SpoolAppendBenchmark extends ThroughputBenchmark {
    private static final int SOURCES = 8;
    private static final int BATCH = 100;
    private static final int MAX_IN_FLIGHT = 1_000;

    /** The spool's fsync policy ({@code always} forces every batch: a disk-latency number). */
    @Param({"interval", "never", "always"})
    public String fsync;

    private Path dir;
    private RoutingEngine engine;
    private Batch[] batches;
    private Semaphore inFlight;
    private Runnable release;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("signalbox-spool-bench");
        engine = new RoutingEngine(Converters.standardConverter()
                .convert(Map.of("drain.timeout.seconds", 5, "spool.dir", dir.resolve("spool").toString(), "spool.max.mb", 256,
                        "spool.fsync", fsync, "deadletter.dir", dir.resolve("deadletter").toString()))
                .to(RoutingEngine.Config.class));
        engine.addRoute(RouteDefinition.of("all", "src-*", "absent"));
        inFlight = new Semaphore(MAX_IN_FLIGHT);
        release = inFlight::release;
        batches = new Batch[SOURCES * 4];
        for (int i = 0; i < batches.length; i++) {
            batches[i] = batch("src-" + (i % SOURCES), i);
        }
    }

    private static Batch batch(String source, int salt) {
        List<Message> messages = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            long ts = 1_700_000_000_000L + salt * BATCH + i;
            String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"event\",\"tid\":\"job-"
                    + salt + "\",\"data\":{\"level\":\"info\",\"msg\":\"job step " + i + " done\",\"n\":" + i + "}}";
            messages.add(new Message(source, ts, MessageType.EVENT, "job-" + salt, null, null, "info", null,
                    line.getBytes(StandardCharsets.UTF_8)));
        }
        return new Batch(source, messages);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException, IOException {
        inFlight.acquire(MAX_IN_FLIGHT); // every batch in the spool
        engine.deactivate();
        deleteTree(dir);
    }

    /** Routes one batch of 100 messages to the absent backend's spool. */
    @Benchmark
    public void spool() throws InterruptedException {
        inFlight.acquire();
        Batch b = batches[next];
        next = next + 1 == batches.length ? 0 : next + 1;
        engine.route(b, release);
    }
}
