package io.signalbox.load.jmh;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.backend.postgres.internal.PostgresConfig;
import io.signalbox.backend.postgres.internal.PostgresBackend;
import io.signalbox.backend.postgres.internal.PostgresBackendComponent;
import io.signalbox.backend.postgres.internal.PostgresSettings;
import io.signalbox.backend.postgres.internal.PostgresCluster;

/**
 * {@link PostgresBackend#write} of batches of 100 or 1000 messages (9 events of ~200 bytes with
 * ctx and data, 1 metric in 10) into a throwaway local PostgreSQL (Debian binaries, fsync on,
 * default settings; see PostgresCluster in the bundle's test jar) on the same machine: one
 * transaction with one or two COPYs per batch. Primary score: batches/s; {@code messages}:
 * messages/s. The server shares the CPU with the benchmark.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar PostgresBackendBenchmark}
 */
public class PostgresBackendBenchmark extends BackendBenchmark {
    @Param({"100", "1000"})
    public int batchSize;

    private PostgresBackend backend;
    private Batch batch;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        PostgresCluster pg = closeAfterTrial(PostgresCluster.create());
        Map<String, Object> props = Map.of("url", pg.url(), "user", pg.user());
        backend = new PostgresBackend("bench",
                PostgresSettings.of(config(PostgresConfig.class, props), props, System::getenv));
        closeAfterTrial(backend::close);
        backend.ensureSchema();
        List<Message> messages = new ArrayList<>(batchSize);
        long ts = 1_795_000_000_000L;
        for (int i = 0; i < batchSize; i++) {
            String line;
            MessageType type;
            if (i % 10 == 9) {
                type = MessageType.METRIC;
                line = "{\"v\":1,\"src\":\"billing\",\"ts\":" + (ts + i) + ",\"type\":\"metric\",\"data\":{\"name\":"
                        + "\"queue.depth\",\"value\":" + i + ",\"unit\":\"items\",\"tags\":{\"queue\":\"invoices\"}}}";
            } else {
                type = MessageType.EVENT;
                line = "{\"v\":1,\"src\":\"billing\",\"ts\":" + (ts + i) + ",\"type\":\"event\",\"tid\":\"job-4711\","
                        + "\"sid\":\"s" + i + "\",\"ctx\":{\"job_id\":\"job-4711\",\"host\":\"app01\"},"
                        + "\"data\":{\"level\":\"info\",\"msg\":\"invoice " + i + " rendered in 12 ms\"}}";
            }
            messages.add(new Message("billing", ts + i, type, type == MessageType.EVENT ? "job-4711" : null,
                    type == MessageType.EVENT ? "s" + i : null, null, type == MessageType.EVENT ? "info" : null, null,
                    line.getBytes(StandardCharsets.UTF_8)));
        }
        batch = new Batch("billing", messages);
    }

    @Benchmark
    public void write(Counters counters) throws Exception {
        backend.write(batch);
        counters.messages += batchSize;
    }
}
