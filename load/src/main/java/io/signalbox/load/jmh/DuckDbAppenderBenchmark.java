package io.signalbox.load.jmh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;
import org.duckdb.DuckDBDriver;
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

/**
 * The floor of the metrics store's write path (issue 15): DuckDB's Appender alone, with nothing of ours
 * around it — rows (series id, ts, value) into the store's {@code points} table in a file database, the
 * store's engine settings while it ingests (1 thread, 256 MiB; {@code -p threads=2} as before session 10), a commit every 100,000 rows as the store's 1 s flush makes
 * under load. The data is {@link MetricStoreIngestBenchmark}'s: {@code series} series, a point every 10 s
 * each, a moving gauge. {@code cpuNanos / points} (secondary results) is the CPU of the whole process a
 * point: what any store on this engine pays at least, whatever it does before the Appender.
 *
 * <pre>java -jar load/target/benchmarks.jar DuckDbAppenderBenchmark</pre>
 */
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class DuckDbAppenderBenchmark {
    static final int BATCH = 100;

    @Param("1000")
    public int series;

    /** Rows a transaction: 100,000 is what the store's 1 s flush makes under load. */
    @Param("100000")
    public int commitRows;

    /** DuckDB's worker threads: the store appends with 1 (its {@code threads}, default 2, is for queries). */
    @Param("1")
    public int threads;

    private Path dir;
    private DuckDBConnection connection;
    private DuckDBAppender appender;
    private long rows;
    private long t0;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("signalbox-duckdb-bench");
        Properties p = new Properties();
        p.setProperty("memory_limit", "256MB");
        p.setProperty("threads", Integer.toString(threads));
        connection = (DuckDBConnection) new DuckDBDriver().connect("jdbc:duckdb:" + dir.resolve("metrics.duckdb"), p);
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE TABLE points (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)");
        }
        connection.setAutoCommit(false);
        appender = connection.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "points");
        appender.unsafeBreakThreadConfinement(); // set-up and benchmark threads may differ
        t0 = System.currentTimeMillis();
    }

    /** {@value #BATCH} rows, each the next series' point of the current round. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void append(MetricStoreIngestBenchmark.Cpu cpu) throws SQLException {
        for (int i = 0; i < BATCH; i++) {
            long r = rows++;
            int s = (int) (r % series);
            long round = r / series;
            appender.beginRow().append(s + 1).append(t0 + round * 10_000).append(50 + ((round * 7 + s * 13) % 100) / 4.0).endRow();
        }
        if (rows % commitRows == 0) {
            appender.flush();
            connection.commit();
        }
        cpu.batch(BATCH);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        appender.close();
        connection.commit();
        connection.close();
        ThroughputBenchmark.deleteTree(dir);
    }
}
