package io.signalbox.backend.s3.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;
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
 * Writes batches into S3 objects, one open object per source, closed by size and age.
 *
 * <p><b>Durability design.</b> {@link #write} appends the batch's lines to the source's
 * <em>staging file</em> under {@code <staging.dir>/<name>/} and returns once the bytes are in the
 * file (and fsynced, with {@code fsync=true}). A staging file is <em>sealed</em> when it reaches
 * {@code object.max.mb} or its first batch is {@code object.max.age.seconds} old (a timer thread
 * checks), and then uploaded by an uploader thread as one object; the file is deleted only after
 * S3 acknowledged the object. A failed upload is logged (rate-limited), counted, and retried with
 * exponential backoff ({@code retry.initial.ms} doubling to {@code retry.max.ms}) until it
 * succeeds: nothing that write() accepted is lost while S3 is unreachable, and nothing is lost if
 * the sidecar stops or crashes, since staged files (sealed or not) are uploaded at the next start.
 * The failure reaches the routing channel once the staging holds {@code staging.max.mb}: write()
 * then throws, and routing retries/spools as for any failing backend. Object keys are derived from
 * the staging file's name (creation time, UUID, source), so a retried upload overwrites the same
 * key: each message is in exactly one object.
 *
 * <p>Thread safety: {@link #write} and the age timer share one lock (taken once per batch).
 */
public final class S3Backend implements Backend, StatsSource {
    private static final Logger LOG = LoggerFactory.getLogger(S3Backend.class);
    private static final String SUFFIX = ".jsonl";
    /** Longest source (UTF-8 bytes) kept in staging file names and keys; longer ones are cut. */
    static final int MAX_SOURCE_BYTES = 96;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final String name;
    private final S3Settings settings;
    private final Path dir;
    private final S3Client s3;
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock: the open (unsealed) staging file of each source. */
    private final Map<String, Segment> open = new HashMap<>();
    /** Guarded by lock: the batch encoding buffer, reused. */
    private byte[] buffer = new byte[64 * 1024];
    private volatile boolean closed;

    private final ScheduledExecutorService timer;
    private final ExecutorService uploaders;
    /** Sealed objects not yet uploaded; {@link #close} waits for 0. */
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong stagedBytes = new AtomicLong();

    private final LongAdder batches = new LongAdder();
    private final LongAdder messages = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder writeNanos = new LongAdder();
    private final LongAdder objects = new LongAdder();
    private final LongAdder objectBytes = new LongAdder();
    private final LongAdder uploadFailures = new LongAdder();
    private final LongAdder multipart = new LongAdder();
    private final String label;

    /** One staging file: an object in the making. */
    private static final class Segment {
        final String source;
        /** The source as the key and the staging file name have it (at most {@link #MAX_SOURCE_BYTES}). */
        final String keySource;
        final long created;
        final String uuid;
        final Path path;
        final FileChannel channel;
        long size;

        Segment(String source, String keySource, long created, String uuid, Path path, FileChannel channel) {
            this.source = source;
            this.keySource = keySource;
            this.created = created;
            this.uuid = uuid;
            this.path = path;
            this.channel = channel;
        }
    }

    /** A sealed staging file waiting for its upload. */
    private record Sealed(Path path, String key, long size, int attempt) {
    }

    /**
     * Opens the backend: creates {@code <staging.dir>/<name>/}, builds the S3 client and queues
     * every file left there by an earlier run for upload.
     */
    S3Backend(String name, S3Settings settings) throws IOException {
        this.name = name;
        this.settings = settings;
        this.label = "{backend=\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        this.dir = settings.stagingDir().resolve(name);
        Files.createDirectories(dir);
        this.s3 = client(settings);
        AtomicInteger n = new AtomicInteger();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "signalbox-s3-" + name + "-timer"));
        this.uploaders = Executors.newFixedThreadPool(settings.uploadThreads(),
                r -> daemon(r, "signalbox-s3-" + name + "-upload-" + n.incrementAndGet()));
        recover();
        long tick = Math.max(50, Math.min(1000, settings.objectMaxAge().toMillis() / 4));
        timer.scheduleWithFixedDelay(this::sealOld, tick, tick, TimeUnit.MILLISECONDS);
    }

    /**
     * A backend from a typed configuration and its raw properties (for benchmarks).
     *
     * @throws IllegalArgumentException with the reason if the configuration is invalid
     */
    public S3Backend(String name, S3BackendComponent.Config config, Map<String, ?> properties) throws IOException {
        this(name, S3Settings.of(config, properties));
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
        t.setContextClassLoader(S3Backend.class.getClassLoader());
        try {
            return b.build();
        } finally {
            t.setContextClassLoader(old);
        }
    }

    public String name() {
        return name;
    }

    S3Settings settings() {
        return settings;
    }

    @Override
    public void write(Batch batch) throws Exception {
        if (closed) {
            throw new IllegalStateException("s3 backend \"" + name + "\" is closed");
        }
        if (batch.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        List<Message> list = batch.messages();
        int size = list.size();
        for (int i = 0; i < list.size(); i++) {
            size += list.get(i).line().length;
        }
        if (stagedBytes.get() + size > settings.stagingMaxBytes()) {
            failures.increment();
            throw new IOException("s3 backend \"" + name + "\": staging is full (" + stagedBytes.get() + " of "
                    + settings.stagingMaxBytes() + " bytes, " + pending.get()
                    + " objects waiting): uploads to S3 are failing or too slow");
        }
        lock.lock();
        try {
            Segment seg = open.get(batch.source());
            if (seg != null && seg.size + size > settings.objectMaxBytes()) {
                seal(seg);
                seg = null;
            }
            if (seg == null) {
                seg = create(batch.source());
            }
            append(seg, list, size);
            if (seg.size >= settings.objectMaxBytes()) {
                seal(seg);
            }
        } catch (IOException | RuntimeException e) {
            failures.increment();
            throw e;
        } finally {
            lock.unlock();
        }
        batches.increment();
        messages.add(list.size());
        bytes.add(size);
        writeNanos.add(System.nanoTime() - start);
    }

    /** Guarded by lock. All lines with their newlines in one write; on failure the file is cut back (no half batch). */
    private void append(Segment seg, List<Message> list, int size) throws IOException {
        if (buffer.length < size) {
            buffer = new byte[Math.max(size, buffer.length * 2)];
        }
        byte[] b = buffer;
        int pos = 0;
        for (int i = 0; i < list.size(); i++) {
            byte[] line = list.get(i).line();
            System.arraycopy(line, 0, b, pos, line.length);
            pos += line.length;
            b[pos++] = '\n';
        }
        ByteBuffer bb = ByteBuffer.wrap(b, 0, pos);
        try {
            while (bb.hasRemaining()) {
                seg.channel.write(bb);
            }
            if (settings.fsync()) {
                seg.channel.force(false);
            }
        } catch (IOException e) {
            try {
                seg.channel.truncate(seg.size);
            } catch (IOException t) {
                e.addSuppressed(t);
            }
            throw e;
        }
        seg.size += pos;
        stagedBytes.addAndGet(pos);
    }

    private Segment create(String source) throws IOException {
        long created = System.currentTimeMillis();
        String uuid = UUID.randomUUID().toString();
        String keySource = keySource(source);
        Path path = dir.resolve(created + "." + uuid + "." + B64.encodeToString(keySource.getBytes(StandardCharsets.UTF_8))
                + SUFFIX);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Segment seg = new Segment(source, keySource, created, uuid, path, ch);
        open.put(source, seg);
        return seg;
    }

    /** Guarded by lock: closes the staging file and queues it for upload. */
    private void seal(Segment seg) {
        open.remove(seg.source);
        try {
            seg.channel.close();
        } catch (IOException e) {
            LOG.warn("s3 backend \"{}\": closing staging file {} failed (it is uploaded as it is): {}", name, seg.path, e.toString());
        }
        pending.incrementAndGet();
        submit(new Sealed(seg.path, key(seg.keySource, seg.created, seg.uuid), seg.size, 0));
    }

    /**
     * The source cut to {@value #MAX_SOURCE_BYTES} UTF-8 bytes (at a character boundary), so that
     * the staging file name stays short; keys are made from this form both when an object is sealed
     * and when a staged file is recovered, so a retried upload always has the same key.
     */
    static String keySource(String source) {
        byte[] utf8 = source.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= MAX_SOURCE_BYTES) {
            return source;
        }
        int end = source.length();
        while (source.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_SOURCE_BYTES) {
            end--;
        }
        if (end > 0 && Character.isHighSurrogate(source.charAt(end - 1))) {
            end--;
        }
        return source.substring(0, end);
    }

    String key(String source, long created, String uuid) {
        return settings.keyTemplate().render(settings.prefix(), name, source, created, uuid);
    }

    private void sealOld() {
        long limit = settings.objectMaxAge().toMillis();
        long now = System.currentTimeMillis();
        lock.lock();
        try {
            for (Segment seg : new ArrayList<>(open.values())) {
                if (now - seg.created >= limit) {
                    seal(seg);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("s3 backend \"{}\": sealing old objects failed", name, e);
        } finally {
            lock.unlock();
        }
    }

    private void submit(Sealed s) {
        try {
            uploaders.execute(() -> upload(s));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.info("s3 backend \"{}\": {} stays staged for the next start (backend closed)", name, s.path());
        }
    }

    private void upload(Sealed s) {
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(S3Backend.class.getClassLoader());
        try {
            ObjectUploader.Uploaded done = ObjectUploader.upload(s3, settings.bucket(), s.key(), s.path(), settings.gzip(),
                    settings.partSizeBytes());
            Files.deleteIfExists(s.path());
            stagedBytes.addAndGet(-s.size());
            objects.increment();
            objectBytes.add(done.bytes());
            if (done.parts() > 1) {
                multipart.increment();
            }
            LOG.debug("s3 backend \"{}\": uploaded s3://{}/{} ({} bytes staged, {} bytes stored)", name,
                    settings.bucket(), s.key(), s.size(), done.bytes());
            if (pending.decrementAndGet() == 0) {
                synchronized (pending) {
                    pending.notifyAll();
                }
            }
        } catch (Exception e) {
            uploadFailures.increment();
            long delay = Math.min(settings.retryMax().toMillis(),
                    settings.retryInitial().toMillis() << Math.min(20, s.attempt()));
            rateLimited.warn("upload", "s3 backend \"{}\": upload of s3://{}/{} failed (attempt {}, retried in {} ms; "
                    + "the data stays staged): {}", name, settings.bucket(), s.key(), s.attempt() + 1, delay, e.toString());
            LOG.debug("s3 backend \"{}\": upload of {} failed", name, s.key(), e);
            Sealed retry = new Sealed(s.path(), s.key(), s.size(), s.attempt() + 1);
            try {
                timer.schedule(() -> submit(retry), delay, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException r) {
                LOG.info("s3 backend \"{}\": {} stays staged for the next start (backend closed)", name, s.path());
            }
        } finally {
            t.setContextClassLoader(old);
        }
    }

    /** Queues every staging file of an earlier run (sealed or not) for upload; a torn last line is cut off. */
    private void recover() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            ds.forEach(files::add);
        }
        files.sort(null);
        for (Path p : files) {
            String file = p.getFileName().toString();
            String[] parts = file.substring(0, file.length() - SUFFIX.length()).split("\\.", -1);
            long created;
            String source;
            try {
                if (parts.length != 3) {
                    throw new IllegalArgumentException("not <time>.<uuid>.<source>" + SUFFIX);
                }
                created = Long.parseLong(parts[0]);
                UUID.fromString(parts[1]);
                source = new String(B64D.decode(parts[2]), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                LOG.warn("s3 backend \"{}\": ignoring {} in the staging directory: {}", name, p, e.getMessage());
                continue;
            }
            long size = cutTornTail(p);
            if (size == 0) {
                Files.delete(p);
                continue;
            }
            stagedBytes.addAndGet(size);
            pending.incrementAndGet();
            LOG.info("s3 backend \"{}\": uploading {} bytes staged by an earlier run ({})", name, size, file);
            submit(new Sealed(p, key(source, created, parts[1]), size, 0));
        }
    }

    /** Cuts the file after its last newline (a crash in the middle of a write leaves a partial line); returns the size. */
    static long cutTornTail(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long end = size;
            ByteBuffer one = ByteBuffer.allocate(1);
            while (end > 0) {
                one.clear();
                ch.read(one, end - 1);
                if (one.get(0) == '\n') {
                    break;
                }
                end--;
            }
            if (end != size) {
                LOG.warn("staging file {}: cut {} bytes of an incomplete last line", p, size - end);
                ch.truncate(end);
            }
            return end;
        }
    }

    /** Seals every open object now (the next batch of each source starts a new one). */
    public void flush() {
        lock.lock();
        try {
            for (Segment seg : new ArrayList<>(open.values())) {
                seal(seg);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Objects sealed but not yet uploaded. */
    public int pendingObjects() {
        return pending.get();
    }

    /**
     * Seals every open object and keeps uploading until all are in S3 or {@code close.timeout.seconds}
     * passed; what is not uploaded by then stays staged and is uploaded at the next start.
     */
    public void close() {
        closed = true;
        flush();
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

    @Override
    public Map<String, Number> stats() {
        String p = "signalbox_backend_s3_";
        Map<String, Number> m = new LinkedHashMap<>();
        m.put(p + "batches_total" + label, batches.sum());
        m.put(p + "messages_total" + label, messages.sum());
        m.put(p + "bytes_total" + label, bytes.sum());
        m.put(p + "failures_total" + label, failures.sum());
        m.put(p + "write_seconds_sum" + label, writeNanos.sum() / 1e9);
        m.put(p + "write_seconds_count" + label, batches.sum());
        m.put(p + "objects_total" + label, objects.sum());
        m.put(p + "object_bytes_total" + label, objectBytes.sum());
        m.put(p + "multipart_objects_total" + label, multipart.sum());
        m.put(p + "upload_failures_total" + label, uploadFailures.sum());
        m.put(p + "staged_bytes" + label, stagedBytes.get());
        m.put(p + "pending_objects" + label, pending.get());
        return m;
    }

    @Override
    public String toString() {
        return "S3Backend[" + name + " → s3://" + settings.bucket() + "/" + settings.prefix() + "]";
    }
}
