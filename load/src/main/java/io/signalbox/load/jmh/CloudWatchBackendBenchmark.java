package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import io.signalbox.backend.cloudwatch.internal.CloudWatchConfig;
import io.signalbox.backend.cloudwatch.internal.CloudWatchBackend;
import io.signalbox.backend.cloudwatch.internal.CloudWatchBackendComponent;
import io.signalbox.backend.cloudwatch.internal.CloudWatchSettings;

/**
 * {@link CloudWatchBackend#write} of batches of 170-byte lines through the real AWS SDK v2 client
 * (URL-connection HTTP client, SigV4 signing, JSON 1.1 marshalling) to a JDK {@code HttpServer}
 * on 127.0.0.1 in the same JVM that reads each Logs_20140328 request body and answers
 * {@code {}} (no validation or storage: the tests' endpoint does that; TCP_NODELAY on). The primary score is
 * batches/s; {@code messages} is log events/s. {@code batch=100} is one PutLogEvents call per
 * batch (routing's default batch size); {@code batch=10000} is about 1.9 MB, two full-size calls (1 MiB limit).
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar CloudWatchBackendBenchmark}
 */
public class CloudWatchBackendBenchmark extends BackendBenchmark {
    @Param({"100", "10000"})
    public int batch;

    private CloudWatchBackend backend;

    @Setup(Level.Trial)
    public void start() throws IOException {
        prepare(8, batch);
        Receiver receiver = closeAfterTrial(
                new Receiver(200, "application/x-amz-json-1.1", "{}".getBytes(StandardCharsets.UTF_8)));
        Map<String, Object> props = Map.of("region", "eu-west-1", "endpoint", receiver.url(),
                "access.key.id", "AKIDBENCH", "secret.access.key", "bench-secret");
        backend = new CloudWatchBackend("bench",
                CloudWatchSettings.of(config(CloudWatchConfig.class, props), props));
        closeAfterTrial(backend::close);
    }

    @Benchmark
    public void writeBatch(Counters counters) throws Exception {
        backend.write(nextBatch());
        counters.messages += batch;
    }
}
