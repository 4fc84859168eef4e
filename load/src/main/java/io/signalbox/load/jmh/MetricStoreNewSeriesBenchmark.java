package io.signalbox.load.jmh;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.metrics.store.internal.MetricStoreComponent;

/**
 * New series in the metrics store: every point of every batch is the first of its series (a new
 * {@code instance} tag), as when thousands of sources start sending (the 10,000-source run of
 * {@code load/bench-tcp-to-file.sh} creates 10,000 series in its warm-up). The score is series per
 * second through {@code MetricStoreComponent.write}; the store's thread inserts them beside it, so
 * {@link MetricStoreIngestBenchmark.Cpu}'s {@code cpuNanos / points} (whole process) is the cost a series.
 *
 * <pre>java -jar load/target/benchmarks.jar MetricStoreNewSeriesBenchmark</pre>
 */
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class MetricStoreNewSeriesBenchmark {
    static final int BATCH = 100;
    static final String SOURCE = "svc";

    private Path dir;
    private MetricStoreComponent store;
    private long next;
    private long t0;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("signalbox-store-series-bench");
        store = MetricStoreIngestBenchmark.open(dir, 100_000_000);
        t0 = System.currentTimeMillis();
    }

    /** One batch of {@value #BATCH} points, each of a series never seen before. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void write(MetricStoreIngestBenchmark.Cpu cpu) throws Exception {
        List<Message> msgs = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            long s = next++;
            byte[] line = ("{\"v\":1,\"src\":\"" + SOURCE + "\",\"ts\":" + t0 + ",\"type\":\"metric\",\"data\":{\"name\":\"bench\","
                    + "\"value\":1.5,\"unit\":\"ms\",\"tags\":{\"instance\":\"i" + s + "\",\"region\":\"eu-west-1\"}}}")
                    .getBytes(StandardCharsets.UTF_8);
            msgs.add(new Message(SOURCE, t0, MessageType.METRIC, null, null, null, null, null, line));
        }
        store.write(new Batch(SOURCE, msgs));
        cpu.batch(BATCH);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        MetricStoreIngestBenchmark.close(store, dir);
    }
}
