package io.signalbox.load.jmh;

import java.io.IOException;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import io.signalbox.api.MetricSamples;
import io.signalbox.backend.webhook.internal.WebhookConfig;
import io.signalbox.backend.webhook.internal.WebhookBackend;
import io.signalbox.backend.webhook.internal.WebhookBackendComponent;
import io.signalbox.backend.webhook.internal.WebhookSettings;

/**
 * {@link WebhookBackend#write} of 100-message batches of 170-byte lines, one request per batch
 * (keep-alive HTTP/1.1), to a JDK {@code HttpServer} on 127.0.0.1 in the same JVM that reads the
 * body and answers 204; with and without gzip. The primary score is batches/s (= requests/s);
 * {@code messages} is messages/s and {@code kib} is KiB/s of request bodies as sent. The
 * receiver shares the CPU, so this is a lower bound on what the backend alone could do.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar WebhookBackendBenchmark}
 */
public class WebhookBackendBenchmark extends BackendBenchmark {
    @Param({"false", "true"})
    public String gzip;

    private WebhookBackend backend;

    @Setup(Level.Trial)
    public void start() throws IOException {
        prepare(SOURCES * 8, BATCH);
        Receiver receiver = closeAfterTrial(new Receiver(204, null, new byte[0]));
        Map<String, Object> props = Map.of("url", receiver.url() + "/hook", "gzip", gzip);
        backend = new WebhookBackend("bench", WebhookSettings.of(config(WebhookConfig.class, props), props));
        closeAfterTrial(backend::close);
    }

    @Benchmark
    public void writeBatch(Counters counters) throws Exception {
        double before = sentBytes();
        backend.write(nextBatch());
        counters.messages += BATCH;
        counters.kib += (sentBytes() - before) / 1024.0;
    }

    private double sentBytes() {
        return MetricSamples.of(backend).value("signalbox_webhook_bytes_sent_total", "backend", "bench");
    }
}
