package io.signalbox.load.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
import io.signalbox.backend.cloudwatch.internal.CloudWatchBackend;
import io.signalbox.backend.cloudwatch.internal.CloudWatchBackendComponent;

/**
 * {@link CloudWatchBackend#write} of batches of 170-byte lines through the real AWS SDK v2 client
 * (URL-connection HTTP client, SigV4 signing, JSON 1.1 marshalling) to a JDK {@code HttpServer}
 * on 127.0.0.1 in the same JVM that reads each Logs_20140328 request body and answers
 * {@code {}} (no validation or storage: the tests' endpoint does that; TCP_NODELAY on). The primary score is
 * batches/s; {@code events} is log events/s. {@code batch=100} is one PutLogEvents call per
 * batch (routing's default batch size); {@code batch=10000} is about 1.9 MB, two full-size calls (1 MiB limit).
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar CloudWatchBackendBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
public class CloudWatchBackendBenchmark {
    @Param({"100", "10000"})
    public int batch;

    private HttpServer server;
    private ExecutorService serverThreads;
    private CloudWatchBackend backend;
    private Batch[] batches;
    private int next;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long events;

        @Setup(Level.Iteration)
        public void reset() {
            events = 0;
        }
    }

    @Setup(Level.Trial)
    public void start() throws IOException {
        batches = new Batch[8];
        for (int b = 0; b < batches.length; b++) {
            String source = "service-" + (b % FileBackendBenchmark.SOURCES);
            List<Message> messages = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                messages.add(FileBackendBenchmark.line(source, b * batch + i));
            }
            batches[b] = new Batch(source, messages);
        }
        byte[] ok = "{}".getBytes(StandardCharsets.UTF_8);
        // the JDK server writes headers and body separately: without TCP_NODELAY each small
        // response waits for the client's delayed ACK (~40 ms), which would measure only that
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        serverThreads = Executors.newFixedThreadPool(2);
        server.setExecutor(serverThreads);
        server.createContext("/", exchange -> {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
                exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
                exchange.sendResponseHeaders(200, ok.length);
                exchange.getResponseBody().write(ok);
            }
        });
        server.start();
        Map<String, Object> props = new HashMap<>();
        props.put("region", "eu-west-1");
        props.put("endpoint", "http://127.0.0.1:" + server.getAddress().getPort());
        props.put("access.key.id", "AKIDBENCH");
        props.put("secret.access.key", "bench-secret");
        CloudWatchBackendComponent.Config config = Converters.standardConverter().convert(props)
                .to(CloudWatchBackendComponent.Config.class);
        backend = new CloudWatchBackend("bench", config, props);
    }

    @TearDown(Level.Trial)
    public void stop() {
        backend.close();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    @Benchmark
    public void writeBatch(Counters counters) throws Exception {
        backend.write(batches[next]);
        next = (next + 1) % batches.length;
        counters.events += batch;
    }
}
