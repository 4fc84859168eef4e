package io.signalbox.metrics.store.internal;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The metrics store's per-point work before the Appender: {@link MetricScanner#scan} of a metric line
 * and the {@link SeriesCache#hash} of its series bytes, over lines shaped like the load generator's.
 * In this package (not {@code io.signalbox.load.jmh}) because both classes are package-private; on the
 * benchmark's class path the package is split, which a plain JVM allows.
 *
 * <p>Run as shipped (C1): {@code java -jar load/target/benchmarks.jar MetricScanBenchmark -jvmArgsAppend
 * -XX:TieredStopAtLevel=1}. To compare with another build's scanner, put that build's
 * {@code bundles/metrics-store/target/classes} first on the class path:
 * {@code java -cp OLD/classes:load/target/benchmarks.jar org.openjdk.jmh.Main MetricScanBenchmark …}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MetricScanBenchmark {
    private static final String SOURCE = "load-0";
    private final byte[][] lines = new byte[1024][];
    private final MetricScanner scanner = new MetricScanner();
    private int next;

    public MetricScanBenchmark() {
        for (int i = 0; i < lines.length; i++) {
            lines[i] = ("{\"v\":1,\"src\":\"load-" + (i % 8) + "\",\"ts\":" + (1_700_000_000_000L + i)
                    + ",\"type\":\"metric\",\"data\":{\"name\":\"queue.depth\",\"value\":" + (i % 1000)
                    + ",\"unit\":\"items\",\"tags\":{\"queue\":\"jobs-" + (i % 4) + "-" + (i % 16)
                    + "\",\"host\":\"load-host\"}}}").getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** Scan and series hash of one line; the result depends on both, so neither is optimised away. */
    @Benchmark
    public long scanAndHash() {
        byte[] line = lines[next++ & (lines.length - 1)];
        MetricScanner sc = scanner;
        if (!sc.scan(line)) {
            throw new IllegalStateException("not handled by the scanner");
        }
        return SeriesCache.hash(SOURCE, line, sc.nameOff, sc.nameLen, sc.tagsOff, sc.tagsLen)
                + Double.doubleToRawLongBits(sc.value);
    }
}
