package io.signalbox.backend.s3.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendWriteStats;
import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;

/**
 * Writes batches into S3 objects, one open object per source, closed by size and age.
 *
 * <p><b>Durability design.</b> {@link #write} appends the batch's lines to the source's
 * <em>staging file</em> under {@code <staging.dir>/<name>/} and returns once the bytes are in the
 * file (and fsynced, with {@code fsync=true}). A staging file is <em>sealed</em> when it reaches
 * {@code object.max.mb} or its first batch is {@code object.max.age.seconds} old (a timer thread
 * checks), and then handed to the {@link UploadQueue}, which uploads it as one object and deletes
 * the file only after S3 acknowledged it, retrying a failed upload until it succeeds: nothing that
 * write() accepted is lost while S3 is unreachable, and nothing is lost if the sidecar stops or
 * crashes, since staged files (sealed or not) are uploaded at the next start. The failure reaches
 * the routing channel once the staging holds {@code staging.max.mb}: write() then throws, and
 * routing retries/spools as for any failing backend. Object keys are derived from the staging
 * file's name (creation time, UUID, source), so a retried upload overwrites the same key: each
 * message is in exactly one object.
 *
 * <p>New settings ({@link #update}) are applied as a stop and a start: the open objects are sealed
 * and uploaded with the old settings (for up to {@code close.timeout.seconds}, as on close), then
 * a new upload queue starts with the new ones and picks up whatever is still staged.
 *
 * <p>Thread safety: {@link #write}, the age timer and {@link #update} share one lock (taken once
 * per batch).
 */
public final class S3Backend implements BackendLifecycle.Instance<S3Settings> {
    private static final Logger LOG = LoggerFactory.getLogger(S3Backend.class);
    private static final String SUFFIX = ".jsonl";
    /** Longest source (UTF-8 bytes) kept in staging file names and keys; longer ones are cut. */
    static final int MAX_SOURCE_BYTES = 96;
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();
    private static final long SEAL_WAIT_MILLIS = 100;

    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock (written), volatile for the readers of stats. */
    private volatile S3Settings settings;
    private volatile Path dir;
    private volatile UploadQueue uploads;
    /** Guarded by lock: the open (unsealed) staging file of each source. */
    private final Map<String, Segment> open = new HashMap<>();
    /** Guarded by lock: the batch encoding buffer, reused. */
    private byte[] buffer = new byte[64 * 1024];
    private volatile boolean closed;

    private final BackendWriteStats stats;
    private final UploadQueue.Counters uploadCounters = new UploadQueue.Counters();

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

    /**
     * Opens the backend: creates {@code <staging.dir>/<name>/}, builds the S3 client and queues
     * every file left there by an earlier run for upload.
     *
     * @throws UncheckedIOException if the staging directory cannot be created
     */
    public S3Backend(String name, S3Settings settings) {
        this.name = name;
        this.stats = new BackendWriteStats("s3", name);
        lock.lock();
        try {
            start(settings, stagingDir(name, settings));
        } finally {
            lock.unlock();
        }
    }

    /** {@code <staging.dir>/<name>/}, created if missing. */
    private static Path stagingDir(String name, S3Settings s) {
        Path d = s.stagingDir().resolve(name);
        try {
            return Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException("s3 backend \"" + name + "\": cannot create the staging directory " + d, e);
        }
    }

    /** Guarded by lock: a new upload queue for {@code s}, with what is staged in {@code d} queued. */
    private void start(S3Settings s, Path d) {
        settings = s;
        dir = d;
        uploads = new UploadQueue(name, s, uploadCounters);
        try {
            recover();
        } catch (IOException e) {
            LOG.error("s3 backend \"{}\": cannot list the staging directory {}; what an earlier run staged there "
                    + "is uploaded at the next start", name, d, e);
        }
        uploads.every(Math.max(50, Math.min(1000, s.objectMaxAge().toMillis() / 4)), this::sealOld);
    }

    /**
     * Seals the open objects and uploads what is pending with the settings in force (for up to
     * their {@code close.timeout.seconds}), then goes on with {@code next}; writes wait meanwhile.
     *
     * @throws UncheckedIOException if the new staging directory cannot be created (the settings in
     *                              force stay)
     */
    @Override
    public void update(S3Settings next) {
        lock.lock();
        try {
            Path nextDir = stagingDir(name, next);
            sealAll();
            uploads.close(dir);
            start(next, nextDir);
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            S3Settings settings = this.settings;
            if (uploads.stagedBytes() + size > settings.stagingMaxBytes()) {
                throw new IOException("s3 backend \"" + name + "\": staging is full (" + uploads.stagedBytes() + " of "
                        + settings.stagingMaxBytes() + " bytes, " + uploads.pending()
                        + " objects waiting): uploads to S3 are failing or too slow");
            }
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
            stats.failure();
            throw e;
        } finally {
            lock.unlock();
        }
        stats.batch();
        stats.accepted(list.size(), size);
        stats.writeTime(System.nanoTime() - start);
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
        uploads.staged(pos);
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
        uploads.add(new UploadQueue.Sealed(seg.path, key(seg.keySource, seg.created, seg.uuid), seg.size, 0));
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

    /**
     * Seals the objects older than {@code object.max.age.seconds}. Gives the tick up if the lock
     * is not free within {@value #SEAL_WAIT_MILLIS} ms (an update holds it while the old uploads
     * finish, and the timer thread also runs the upload retries, which must not wait for that).
     */
    private void sealOld() {
        long limit = settings.objectMaxAge().toMillis();
        long now = System.currentTimeMillis();
        try {
            if (!lock.tryLock(SEAL_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the queue is being closed
            return;
        }
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
            uploads.staged(size);
            LOG.info("s3 backend \"{}\": uploading {} bytes staged by an earlier run ({})", name, size, file);
            uploads.add(new UploadQueue.Sealed(p, key(source, created, parts[1]), size, 0));
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
            sealAll();
        } finally {
            lock.unlock();
        }
    }

    /** Guarded by lock. */
    private void sealAll() {
        for (Segment seg : new ArrayList<>(open.values())) {
            seal(seg);
        }
    }

    /** Objects sealed but not yet uploaded. */
    public int pendingObjects() {
        return uploads.pending();
    }

    /**
     * Seals every open object and keeps uploading until all are in S3 or {@code close.timeout.seconds}
     * passed; what is not uploaded by then stays staged and is uploaded at the next start.
     */
    @Override
    public void close() {
        closed = true;
        flush();
        uploads.close(dir);
    }

    @Override
    public void collect(MetricsSink sink) {
        stats.collect(sink);
        uploadCounters.collect(sink, name);
        UploadQueue u = uploads;
        sink.gauge("signalbox_backend_s3_staged_bytes", u.stagedBytes(), "backend", name);
        sink.gauge("signalbox_backend_s3_pending_objects", u.pending(), "backend", name);
    }

    @Override
    public String toString() {
        return "S3Backend[" + name + " → s3://" + settings.bucket() + "/" + settings.prefix() + "]";
    }
}

