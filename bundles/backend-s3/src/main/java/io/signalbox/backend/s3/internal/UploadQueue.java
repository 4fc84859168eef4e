package io.signalbox.backend.s3.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The upload bookkeeping of one S3 backend under one configuration: the S3 client, the uploader
 * threads, the staging files sealed and waiting for their upload ({@link #pending}), the bytes
 * staged on disk, and the retries. A sealed file is uploaded as one object
 * ({@link ObjectUploader}) and deleted only after S3 acknowledged it; a failed upload is logged
 * (rate-limited), counted and retried with exponential backoff ({@code retry.initial.ms} doubling
 * to {@code retry.max.ms}) until it succeeds or the queue is closed (the file then stays staged
 * for the next start).
 *
 * <p>Its timer thread also runs the backend's age check ({@link #every}). A new configuration gets
 * a new queue; the {@link Counters} outlive it.
 */
final class UploadQueue {
    private static final Logger LOG = LoggerFactory.getLogger(UploadQueue.class);

    /** A sealed staging file waiting for its upload under {@code key}. */
    record Sealed(Path path, String key, long size, int attempt) {
    }

    /** Upload counters of one backend, reported as {@code signalbox_backend_s3_*{backend}}. */
    record Counters(LongAdder objects, LongAdder objectBytes, LongAdder multipart, LongAdder failures) {
        Counters() {
            this(new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder());
        }

        void collect(MetricsSink sink, String backend) {
            sink.counter("signalbox_backend_s3_objects_total", objects.sum(), "backend", backend);
            sink.counter("signalbox_backend_s3_object_bytes_total", objectBytes.sum(), "backend", backend);
            sink.counter("signalbox_backend_s3_multipart_objects_total", multipart.sum(), "backend", backend);
            sink.counter("signalbox_backend_s3_upload_failures_total", failures.sum(), "backend", backend);
        }
    }

    private final String name;
    private final S3Settings settings;
    private final Counters counters;
    private final S3Client s3;
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    private final ScheduledExecutorService timer;
    private final ExecutorService uploaders;
    /** Sealed objects not yet uploaded; {@link #close} waits for 0. */
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong stagedBytes = new AtomicLong();

    UploadQueue(String name, S3Settings settings, Counters counters) {
        this.name = name;
        this.settings = settings;
        this.counters = counters;
        this.s3 = client(settings);
        AtomicInteger n = new AtomicInteger();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "signalbox-s3-" + name + "-timer"));
        this.uploaders = Executors.newFixedThreadPool(settings.uploadThreads(),
                r -> daemon(r, "signalbox-s3-" + name + "-upload-" + n.incrementAndGet()));
    }

    private static Thread daemon(Runnable r, String threadName) {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        return t;
    }

    static S3Client client(S3Settings s) {
        AwsCredentialsProvider credentials = s.staticCredentials()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(s.accessKeyId(), s.secretAccessKey()))
                : DefaultCredentialsProvider.builder().build();
        // explicit HTTP client: the SDK's ServiceLoader lookup does not work inside OSGi
        S3ClientBuilder b = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(s.connectTimeout())
                        .socketTimeout(s.socketTimeout())
                        .build())
                .region(Region.of(s.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(s.pathStyle())
                // S3-compatible stores often lack the newer default CRC32 trailers
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (s.endpoint() != null) {
            b.endpointOverride(s.endpoint());
        }
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(UploadQueue.class.getClassLoader());
        try {
            return b.build();
        } finally {
            t.setContextClassLoader(old);
        }
    }

    /** Runs {@code task} every {@code millis} on the timer thread until the queue is closed. */
    void every(long millis, Runnable task) {
        timer.scheduleWithFixedDelay(task, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Bytes written to staging files ({@code signalbox_backend_s3_staged_bytes}). */
    void staged(long bytes) {
        stagedBytes.addAndGet(bytes);
    }

    long stagedBytes() {
        return stagedBytes.get();
    }

    /** Sealed objects not yet uploaded. */
    int pending() {
        return pending.get();
    }

    /** Queues a sealed file for its first upload. */
    void add(Sealed s) {
        pending.incrementAndGet();
        submit(s);
    }

    private void submit(Sealed s) {
        try {
            uploaders.execute(() -> upload(s));
        } catch (RejectedExecutionException e) {
            LOG.info("s3 backend \"{}\": {} stays staged for the next start (backend closed)", name, s.path());
        }
    }

    private void upload(Sealed s) {
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(UploadQueue.class.getClassLoader());
        try {
            ObjectUploader.Uploaded done = ObjectUploader.upload(s3, settings.bucket(), s.key(), s.path(), settings.gzip(),
                    settings.partSizeBytes());
            Files.deleteIfExists(s.path());
            stagedBytes.addAndGet(-s.size());
            counters.objects().increment();
            counters.objectBytes().add(done.bytes());
            if (done.parts() > 1) {
                counters.multipart().increment();
            }
            LOG.debug("s3 backend \"{}\": uploaded s3://{}/{} ({} bytes staged, {} bytes stored)", name,
                    settings.bucket(), s.key(), s.size(), done.bytes());
            if (pending.decrementAndGet() == 0) {
                synchronized (pending) {
                    pending.notifyAll();
                }
            }
        } catch (Exception e) {
            counters.failures().increment();
            long delay = Math.min(settings.retryMax().toMillis(),
                    settings.retryInitial().toMillis() << Math.min(20, s.attempt()));
            rateLimited.warn("upload", "s3 backend \"{}\": upload of s3://{}/{} failed (attempt {}, retried in {} ms; "
                    + "the data stays staged): {}", name, settings.bucket(), s.key(), s.attempt() + 1, delay, e.toString());
            LOG.debug("s3 backend \"{}\": upload of {} failed", name, s.key(), e);
            Sealed retry = new Sealed(s.path(), s.key(), s.size(), s.attempt() + 1);
            try {
                timer.schedule(() -> submit(retry), delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException r) {
                LOG.info("s3 backend \"{}\": {} stays staged for the next start (backend closed)", name, s.path());
            }
        } finally {
            t.setContextClassLoader(old);
        }
    }

    /**
     * Keeps uploading until every sealed object is in S3 or {@code close.timeout.seconds} passed,
     * then stops the threads and closes the client; what is not uploaded by then stays in
     * {@code dir} for the next start.
     */
    void close(Path dir) {
        long deadline = System.nanoTime() + settings.closeTimeout().toNanos();
        synchronized (pending) {
            long left;
            while (pending.get() > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    pending.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        int left = pending.get();
        if (left > 0) {
            LOG.warn("s3 backend \"{}\": {} objects ({} bytes) not uploaded within {} ms; they stay in {} for the next start",
                    name, left, stagedBytes.get(), settings.closeTimeout().toMillis(), dir);
        }
        timer.shutdownNow();
        uploaders.shutdownNow();
        try {
            uploaders.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        s3.close();
    }
}
