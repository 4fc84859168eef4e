package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.osgi.util.converter.Converters;

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
    private BoundedRouting routing;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("signalbox-spool-bench");
        engine = new RoutingEngine(Converters.standardConverter()
                .convert(Map.of("drain.timeout.seconds", 5, "spool.dir", dir.resolve("spool").toString(), "spool.max.mb", 256,
                        "spool.fsync", fsync, "deadletter.dir", dir.resolve("deadletter").toString()))
                .to(RoutingEngine.Config.class));
        engine.addRoute(RouteDefinition.of("all", "src-*", "absent"));
        routing = new BoundedRouting(engine, MAX_IN_FLIGHT, SOURCES, (source, salt) -> eventBatch(source, salt, BATCH));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException, IOException {
        routing.awaitDelivered(); // every batch in the spool
        engine.deactivate();
        deleteTree(dir);
    }

    /** Routes one batch of 100 messages to the absent backend's spool. */
    @Benchmark
    public void spool() throws InterruptedException {
        routing.routeNext();
    }
}
