package io.signalbox.load.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.osgi.util.converter.Converters;

import com.sun.net.httpserver.HttpServer;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.backend.webhook.internal.WebhookBackend;
import io.signalbox.backend.webhook.internal.WebhookBackendComponent;

/**
 * {@link WebhookBackend#write} of 100-message batches of 170-byte lines, one request per batch
 * (keep-alive HTTP/1.1), to a JDK {@code HttpServer} on 127.0.0.1 in the same JVM that reads the
 * body and answers 204; with and without gzip. The primary score is batches/s (= requests/s);
 * {@code messages} is messages/s and {@code wireKib} is KiB/s of request bodies as sent. The
 * receiver shares the CPU, so this is a lower bound on what the backend alone could do.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar WebhookBackendBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
public class WebhookBackendBenchmark {
    static final int BATCH = FileBackendBenchmark.BATCH;
    static final int SOURCES = FileBackendBenchmark.SOURCES;

    @Param({"false", "true"})
    public String gzip;

    private HttpServer server;
    private ExecutorService serverThreads;
    private WebhookBackend backend;
    private Batch[] batches;
    private int next;

    /** Per-iteration counters, reported by JMH as rates (per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long messages;
        public double wireKib;

        @Setup(Level.Iteration)
        public void reset() {
            messages = 0;
            wireKib = 0;
        }
    }

    @Setup(Level.Trial)
    public void start() throws IOException {
        batches = new Batch[SOURCES * 8];
        for (int b = 0; b < batches.length; b++) {
            String source = "service-" + (b % SOURCES);
            List<Message> messages = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                messages.add(FileBackendBenchmark.line(source, b * BATCH + i));
            }
            batches[b] = new Batch(source, messages);
        }
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        serverThreads = Executors.newFixedThreadPool(2);
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                in.transferTo(OutputStreamSink.INSTANCE);
                exchange.sendResponseHeaders(204, -1);
            }
        });
        server.start();
        Map<String, Object> props = new HashMap<>();
        props.put("url", "http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        props.put("gzip", gzip);
        WebhookBackendComponent.Config config = Converters.standardConverter().convert(props)
                .to(WebhookBackendComponent.Config.class);
        backend = new WebhookBackend("bench", config, props);
    }

    @TearDown(Level.Trial)
    public void stop() {
        backend.close();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    @Benchmark
    public void writeBatch(Counters counters) throws Exception {
        long before = sentBytes();
        backend.write(batches[next]);
        next = (next + 1) % batches.length;
        counters.messages += BATCH;
        counters.wireKib += (sentBytes() - before) / 1024.0;
    }

    private long sentBytes() {
        return backend.stats().get("signalbox_webhook_bytes_sent_total{backend=\"bench\"}").longValue();
    }

    /** Discards what the receiver reads. */
    private static final class OutputStreamSink extends java.io.OutputStream {
        static final OutputStreamSink INSTANCE = new OutputStreamSink();

        @Override
        public void write(int b) {
            // discarded
        }

        @Override
        public void write(byte[] b, int off, int len) {
            // discarded
        }
    }
}
