package io.signalbox.load.jmh;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.metrics.store.internal.MetricStoreComponent;
import io.signalbox.metrics.store.internal.StoreConfig;

/**
 * Ingest into the metrics store (issue 15) as routing drives it: {@code MetricStoreComponent.write} of
 * batches of {@value #BATCH} canonical metric lines of one source (as the protocol decoder hands them
 * on), with the shipped configuration (a commit every second by the component's own scheduler, a
 * retention check with checkpoint every 60 s) on a real DuckDB in a temp folder. {@code series} series
 * ({@value #SOURCES} sources, an {@code instance} tag), a point every 10 s per series, a moving gauge.
 * The score is points per second (one point per message); the commits (and, since session 8, the
 * Appender) run on the store's thread beside it, so on 2 cores they are partly outside the score. The
 * secondary results {@code cpuNanos} and {@code points} (totals per iteration) give the CPU of the whole
 * process (every thread, DuckDB's included) per point: {@code cpuNanos / points}, which depends much less on
 * what else runs on the machine than the score does.
 *
 * <pre>java -jar load/target/benchmarks.jar MetricStoreIngestBenchmark</pre>
 */
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class MetricStoreIngestBenchmark {
    static final int BATCH = 100;
    static final int SOURCES = 10;
    static final int VARIANTS = 100;

    @Param("1000")
    public int series;

    private Path dir;
    private MetricStoreComponent store;
    /** lines[s][v]: series s with its v-th value. */
    private byte[][][] lines;
    private String[] sourceNames;
    private long round;
    private int nextSource;
    private long t0;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("signalbox-store-bench");
        store = open(dir, Math.max(100_000, series));
        sourceNames = new String[SOURCES];
        for (int i = 0; i < SOURCES; i++) {
            sourceNames[i] = "svc" + i;
        }
        lines = new byte[series][VARIANTS][];
        for (int s = 0; s < series; s++) {
            for (int v = 0; v < VARIANTS; v++) {
                String value = Double.toString(50 + v / 4.0);
                lines[s][v] = ("{\"v\":1,\"src\":\"" + sourceNames[s % SOURCES] + "\",\"ts\":1700000000000,\"type\":\"metric\","
                        + "\"data\":{\"name\":\"bench\",\"value\":" + value + ",\"unit\":\"ms\",\"tags\":{\"instance\":\"i" + s
                        + "\",\"region\":\"eu-west-1\"}}}").getBytes(StandardCharsets.UTF_8);
            }
        }
        t0 = System.currentTimeMillis();
    }

    /** The process's CPU time while the benchmark runs, as secondary results (totals per iteration). */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Cpu {
        private static final com.sun.management.OperatingSystemMXBean OS =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        /** CPU nanoseconds of the whole process (sampled every 256 batches, so a little lags into the next iteration). */
        public long cpuNanos;
        /** Points written. */
        public long points;
        private long last = -1;
        private int calls;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            points = 0;
        }

        void batch(int n) {
            points += n;
            if ((++calls & 255) == 0) {
                long now = OS.getProcessCpuTime();
                if (last >= 0) {
                    cpuNanos += now - last;
                }
                last = now;
            }
        }
    }

    /** One batch: {@value #BATCH} points of the next source's series at the current round's time. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void write(Cpu cpu) throws Exception {
        int src = nextSource;
        long ts = t0 + round * 10_000;
        List<Message> msgs = new ArrayList<>(BATCH);
        int perSource = series / SOURCES;
        for (int i = 0; i < BATCH; i++) {
            int s = ((int) ((round * BATCH + i) % perSource)) * SOURCES + src;
            int v = (int) ((round * 7 + s * 13) % VARIANTS);
            msgs.add(new Message(sourceNames[src], ts, MessageType.METRIC, null, null, null, null, null, lines[s][v]));
        }
        store.write(new Batch(sourceNames[src], msgs));
        cpu.batch(BATCH);
        if (++nextSource == SOURCES) {
            nextSource = 0;
            round++;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        close(store, dir);
    }

    /** The store with the shipped configuration but its folder and series limit. */
    static MetricStoreComponent open(Path dir, int maxSeries) throws Exception {
        StoreConfig config = Converters.standardConverter()
                .convert(Map.of("path", dir.toString(), "max.series", Integer.toString(maxSeries)))
                .to(StoreConfig.class);
        return new MetricStoreComponent(config);
    }

    /** Stops the store as DS would (its final commit and checkpoint) and deletes its folder. */
    static void close(MetricStoreComponent store, Path dir) throws Exception {
        Method deactivate = MetricStoreComponent.class.getDeclaredMethod("deactivate");
        deactivate.setAccessible(true);
        deactivate.invoke(store);
        ThroughputBenchmark.deleteTree(dir);
    }
}
