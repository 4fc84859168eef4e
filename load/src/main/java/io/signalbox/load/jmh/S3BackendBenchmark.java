package io.signalbox.load.jmh;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;

import io.signalbox.api.Batch;
import io.signalbox.api.MetricSamples;
import io.signalbox.backend.s3.internal.S3Config;
import io.signalbox.backend.s3.internal.S3Backend;
import io.signalbox.backend.s3.internal.S3BackendComponent;
import io.signalbox.backend.s3.internal.S3Settings;

/**
 * Sustained throughput of the S3 backend into S3Proxy (jclouds filesystem blob store in a temp
 * dir) on 127.0.0.1 in the same JVM: 100-message batches of 170-byte lines from 4 sources,
 * default object size (8 MiB uncompressed) and parts, gzip on/off, 2 upload threads. The staging
 * is capped at 64 MiB and a write that finds it full waits for uploads to make room, so after the
 * warm-up the score is bounded by what is really uploaded, not by appending to local files.
 * Primary score: batches/s; {@code messages} = messages/s; {@code kib} = KiB/s of objects
 * stored (after gzip). S3Proxy shares the CPU, so this is a lower bound for the backend alone.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar S3BackendBenchmark}
 */
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
public class S3BackendBenchmark extends BackendBenchmark {
    private static final String BUCKET = "bench";

    @Param({"true", "false"})
    public String gzip;

    private S3Backend backend;

    @Setup(Level.Trial)
    public void start() throws Exception {
        prepare(SOURCES * 8, BATCH);
        Path dir = Files.createTempDirectory("s3-bench");
        closeAfterTrial(() -> deleteTree(dir));
        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", dir.resolve("store").toString());
        BlobStoreContext blobs = closeAfterTrial(
                ContextBuilder.newBuilder("filesystem").credentials("x", "y").overrides(p).build(BlobStoreContext.class));
        blobs.getBlobStore().createContainerInLocation(null, BUCKET);
        S3Proxy proxy = S3Proxy.builder().blobStore(blobs.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "bench", "bench-secret").build();
        proxy.start();
        closeAfterTrial(proxy::stop);
        while (!"STARTED".equals(proxy.getState())) {
            Thread.onSpinWait();
        }
        Map<String, Object> props = new HashMap<>();
        props.put("bucket", BUCKET);
        props.put("endpoint", "http://127.0.0.1:" + proxy.getPort());
        props.put("path.style", "true");
        props.put("access.key.id", "bench");
        props.put("secret.access.key", "bench-secret");
        props.put("gzip", gzip);
        props.put("staging.dir", dir.resolve("staging").toString());
        props.put("staging.max.mb", "64");
        backend = new S3Backend("bench", S3Settings.of(config(S3Config.class, props), props, System::getenv));
        closeAfterTrial(backend::close);
    }

    @Benchmark
    public void writeBatch(Counters counters) throws Exception {
        double before = uploaded();
        Batch batch = nextBatch();
        while (true) {
            try {
                backend.write(batch);
                break;
            } catch (IOException full) {
                // staging full: wait for the uploads (this is what makes the score sustained)
                Thread.sleep(1);
            }
        }
        counters.messages += BATCH;
        counters.kib += (uploaded() - before) / 1024.0;
    }

    private double uploaded() {
        return MetricSamples.of(backend).value("signalbox_backend_s3_object_bytes_total", "backend", "bench");
    }
}
