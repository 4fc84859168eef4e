package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;

/**
 * Writes batches as JSON lines to files under {@code path}, one file per {@code path.template}
 * expansion ({@code {source}/{date}.jsonl} by default), with size rotation, daily (or hourly)
 * rollover, optional gzip of rotated files and an explicit fsync policy.
 *
 * <p>Each message's {@link Message#line()} bytes are copied once into a write buffer and from
 * there to the file: nothing is re-serialised. A batch is written to the OS before
 * {@link #write} returns; with {@code fsync=batch} it is also forced to disk. If writing fails
 * part-way, every file the batch touched is truncated back to its length before the batch, so
 * the channel's retry of the whole batch neither duplicates nor tears lines.
 *
 * <p>{@link FileBackendComponent} creates one per configuration and registers it.
 */
public final class FileBackend implements Backend, StatsSource {
    static final long MIB = 1024L * 1024L;

    private static final Logger LOG = LoggerFactory.getLogger(FileBackend.class);

    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    private final String name;
    private final Path root;
    private final PathTemplate template;
    private final long rotateBytes;
    private final boolean compress;
    private final FsyncPolicy fsync;
    private final long fsyncIntervalMillis;
    private final long idleCloseMillis;
    private final int maxOpenFiles;
    private final Clock clock;
    private final FileSink.Factory sinks;

    /** Guards everything below that is not atomic or concurrent. */
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer buffer;
    private OpenFile bufferOwner;
    private final HashMap<String, Stream> streams = new HashMap<>();
    private final HashMap<String, Slot> slots = new HashMap<>();
    private final ArrayList<Touch> touched = new ArrayList<>();
    private final ArrayList<Rotation> rotations = new ArrayList<>();
    /** Files a failed batch could not be truncated back: the length to cut them to when next opened. */
    private final HashMap<Path, Long> truncateOnOpen = new HashMap<>();
    private long txn;
    private boolean closed;

    private final Set<Path> compressing = ConcurrentHashMap.newKeySet();
    private final ExecutorService compressor;
    private final ScheduledExecutorService scheduler;

    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong messagesWritten = new AtomicLong();
    private final AtomicLong rotationCount = new AtomicLong();
    private final AtomicLong fsyncCount = new AtomicLong();
    private volatile int openFiles;
    private final String bytesKey;
    private final String messagesKey;
    private final String openFilesKey;
    private final String rotationsKey;
    private final String fsyncsKey;

    /**
     * A backend writing with the system clock to real files; its background tasks (interval
     * fsync, idle close, rollover) run until {@link #close()}.
     */
    public FileBackend(String name, FileBackendComponent.Config config) {
        this(name, config, Clock.systemUTC(), FileSink.CHANNELS);
        start();
    }

    /** For tests: an injected clock and files, no background tasks until {@link #start()}. */
    FileBackend(String name, FileBackendComponent.Config config, Clock clock, FileSink.Factory sinks) {
        this.name = name;
        this.clock = clock;
        this.sinks = sinks;
        this.root = Path.of(config.path().isBlank() ? "data/files" : config.path().trim()).toAbsolutePath().normalize();
        this.template = new PathTemplate(config.path_template());
        if (config.rotate_size_mb() < 0) {
            throw new IllegalArgumentException("rotate.size.mb must be >= 0, got " + config.rotate_size_mb());
        }
        this.rotateBytes = (long) (config.rotate_size_mb() * MIB);
        this.compress = config.compress_rotated();
        this.fsync = FsyncPolicy.parse(config.fsync());
        this.fsyncIntervalMillis = Math.max(1, config.fsync_interval_ms());
        this.idleCloseMillis = Math.max(0, config.idle_close_seconds()) * 1000L;
        this.maxOpenFiles = Math.max(1, config.max_open_files());
        int kb = Math.min(Math.max(config.buffer_kb(), 1), 16 * 1024);
        this.buffer = ByteBuffer.allocateDirect(kb * 1024);
        String label = "{backend=\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        bytesKey = "signalbox_file_bytes_written_total" + label;
        messagesKey = "signalbox_file_messages_written_total" + label;
        openFilesKey = "signalbox_file_open_files" + label;
        rotationsKey = "signalbox_file_rotations_total" + label;
        fsyncsKey = "signalbox_file_fsyncs_total" + label;
        compressor = Executors.newSingleThreadExecutor(daemon("signalbox-file-" + name + "-gzip"));
        scheduler = Executors.newSingleThreadScheduledExecutor(daemon("signalbox-file-" + name));
        LOG.info("File backend \"{}\": path={} path.template={} rotate.size.mb={} compress.rotated={} fsync={}"
                + " fsync.interval.ms={} buffer.kb={} idle.close.seconds={} max.open.files={}", name, root, template,
                config.rotate_size_mb(), compress, fsync.name().toLowerCase(Locale.ROOT), fsyncIntervalMillis,
                kb, idleCloseMillis / 1000, maxOpenFiles);
    }

    /** Schedules the background work: interval fsync, idle close and rollover of files whose day is over. */
    void start() {
        if (fsync == FsyncPolicy.INTERVAL) {
            scheduler.scheduleWithFixedDelay(this::syncDirtyLogged, fsyncIntervalMillis, fsyncIntervalMillis,
                    TimeUnit.MILLISECONDS);
        }
        long sweepMillis = idleCloseMillis > 0 ? Math.min(Math.max(idleCloseMillis / 2, 1000), 10_000) : 10_000;
        scheduler.scheduleWithFixedDelay(this::sweepLogged, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
    }

    String name() {
        return name;
    }

    Path root() {
        return root;
    }

    // --- writing -----------------------------------------------------------------------

    @Override
    public void write(Batch batch) throws IOException {
        List<Message> messages = batch.messages();
        int n = messages.size();
        if (n == 0) {
            return;
        }
        lock.lock();
        try {
            if (closed) {
                throw new IOException("file backend \"" + name + "\" is closed");
            }
            long now = clock.millis();
            long period = template.periodOf(now);
            txn++;
            Stream stream = streams.get(batch.source());
            if (stream == null) {
                stream = new Stream(PathTemplate.sanitise(batch.source()));
                streams.put(batch.source(), stream);
            }
            stream.lastWrite = now;
            long bytes = 0;
            try {
                if (!template.usesType()) {
                    bytes = append(slotFor(stream, messages.get(0).type(), now, period), messages, 0, n);
                } else {
                    int start = 0;
                    while (start < n) {
                        MessageType type = messages.get(start).type();
                        int end = start + 1;
                        while (end < n && messages.get(end).type() == type) {
                            end++;
                        }
                        bytes += append(slotFor(stream, type, now, period), messages, start, end);
                        start = end;
                    }
                }
                flushBuffer();
                if (fsync == FsyncPolicy.BATCH) {
                    for (int i = 0; i < touched.size(); i++) {
                        force(touched.get(i).file);
                    }
                }
            } catch (Throwable e) {
                rollback(batch, e);
                throw e;
            }
            commit(now);
            bytesWritten.addAndGet(bytes);
            messagesWritten.addAndGet(n);
        } finally {
            lock.unlock();
        }
    }

    /** The slot (file series) a stream writes to now, rolling over the one of a past period. */
    private Slot slotFor(Stream stream, MessageType type, long now, long period) throws IOException {
        int i = template.usesType() ? type.ordinal() : 0;
        Slot cached = stream.byType[i];
        if (cached != null && !cached.retired && cached.period == period) {
            return cached;
        }
        String key = template.expand(stream.sanitised, type, now);
        Slot slot = slots.get(key);
        if (slot == null) {
            Path base = root.resolve(key).normalize();
            if (!base.startsWith(root)) {
                throw new IOException("path " + key + " is outside " + root);
            }
            slot = new Slot(key, base, period);
            slots.put(key, slot);
        }
        if (cached != null && cached != slot && !cached.retired && cached.period != period) {
            retire(cached);
        }
        stream.byType[i] = slot;
        return slot;
    }

    /** Appends messages [from, to) to the slot's current file, rotating by size; returns the bytes. */
    private long append(Slot slot, List<Message> messages, int from, int to) throws IOException {
        OpenFile file = current(slot);
        long bytes = 0;
        for (int k = from; k < to; k++) {
            byte[] line = messages.get(k).line();
            int len = line.length + 1;
            if (rotateBytes > 0 && file.size > 0 && file.size + len > rotateBytes) {
                file = rotate(slot, file);
            }
            put(file, line);
            file.size += len;
            bytes += len;
        }
        return bytes;
    }

    private void put(OpenFile file, byte[] line) throws IOException {
        if (bufferOwner != file) {
            flushBuffer();
            bufferOwner = file;
        }
        int need = line.length + 1;
        if (need > buffer.remaining()) {
            flushBuffer();
            if (need > buffer.capacity()) {
                ByteBuffer direct = ByteBuffer.wrap(line);
                while (direct.hasRemaining()) {
                    file.sink.write(direct);
                }
                buffer.put((byte) '\n');
                return;
            }
        }
        buffer.put(line).put((byte) '\n');
    }

    private void flushBuffer() throws IOException {
        if (buffer.position() > 0 && bufferOwner != null) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                bufferOwner.sink.write(buffer);
            }
        }
        buffer.clear();
    }

    /** The open file of a slot, opening (and recording in the batch) as needed. */
    private OpenFile current(Slot slot) throws IOException {
        OpenFile f = slot.current;
        if (f == null) {
            return open(slot);
        }
        if (f.txn != txn) {
            f.txn = txn;
            touched.add(new Touch(f, f.size, false));
        }
        return f;
    }

    private OpenFile open(Slot slot) throws IOException {
        if (slot.index < 0) {
            slot.index = probe(slot);
        }
        Path path = slot.pathOf(slot.index);
        makeRoom();
        Files.createDirectories(path.getParent());
        boolean existed = Files.exists(path);
        FileSink sink = sinks.open(path);
        OpenFile f = new OpenFile(slot, path, sink);
        openFiles++;
        try {
            Long cut = truncateOnOpen.get(path);
            if (cut != null) {
                if (f.sink.size() > cut) {
                    f.sink.truncate(cut);
                    LOG.warn("File backend \"{}\": cut {} back to {} bytes, the length before a failed batch", name,
                            path, cut);
                }
                truncateOnOpen.remove(path);
            }
            f.size = existed ? repairTail(f) : 0;
        } catch (IOException | RuntimeException e) {
            closeQuietly(f, e);
            throw e;
        }
        if (!existed && fsync == FsyncPolicy.BATCH) {
            syncDirectory(path.getParent());
        }
        slot.current = f;
        f.txn = txn;
        touched.add(new Touch(f, f.size, !existed));
        LOG.debug("File backend \"{}\": opened {} ({} bytes)", name, path, f.size);
        return f;
    }

    /** First index of a slot: continue the newest plain file with room, else start the next one. */
    private int probe(Slot slot) throws IOException {
        int last = -1;
        for (int i = 0;; i++) {
            Path p = slot.pathOf(i);
            if (!Files.exists(p) && !Files.exists(Gzip.target(p))) {
                break;
            }
            last = i;
        }
        if (last < 0) {
            return 0;
        }
        Path p = slot.pathOf(last);
        boolean appendable = Files.exists(p) && !Files.exists(Gzip.target(p)) && !compressing.contains(p)
                && (rotateBytes == 0 || Files.size(p) < rotateBytes);
        return appendable ? last : last + 1;
    }

    /**
     * Cuts a torn last line (a crash or a failed truncate left bytes after the last newline):
     * such a line was never acknowledged, its batch is retried.
     */
    private long repairTail(OpenFile f) throws IOException {
        long size = f.sink.size();
        if (size == 0) {
            return 0;
        }
        ByteBuffer one = ByteBuffer.allocate(8192);
        long end = size;
        while (end > 0) {
            int chunk = (int) Math.min(one.capacity(), end);
            one.clear().limit(chunk);
            long pos = end - chunk;
            while (one.hasRemaining()) {
                if (f.sink.read(one, pos + one.position()) < 0) {
                    throw new IOException("unexpected end of " + f.path);
                }
            }
            for (int i = chunk - 1; i >= 0; i--) {
                if (one.get(i) == '\n') {
                    long keep = pos + i + 1;
                    if (keep < size) {
                        LOG.warn("File backend \"{}\": {} ended in a partial line; cut {} bytes (that batch is retried)",
                                name, f.path, size - keep);
                        f.sink.truncate(keep);
                    }
                    return keep;
                }
            }
            end = pos;
        }
        LOG.warn("File backend \"{}\": {} held only a partial line; cut {} bytes", name, f.path, size);
        f.sink.truncate(0);
        return 0;
    }

    /** Size rotation inside a batch; the old file is closed (and compressed) when the batch commits. */
    private OpenFile rotate(Slot slot, OpenFile old) throws IOException {
        if (bufferOwner == old) {
            flushBuffer();
        }
        rotations.add(new Rotation(slot, old, slot.index));
        slot.current = null;
        slot.index++;
        return open(slot);
    }

    private void commit(long now) {
        for (int i = 0; i < touched.size(); i++) {
            OpenFile f = touched.get(i).file;
            f.lastWrite = now;
            f.dirty = fsync == FsyncPolicy.INTERVAL;
        }
        for (Rotation r : rotations) {
            closeFile(r.previous);
            rotationCount.incrementAndGet();
            submitCompress(r.previous.path);
        }
        touched.clear();
        rotations.clear();
    }

    /** Undoes a failed batch: every touched file back to its length before it, rotations undone. */
    private void rollback(Batch batch, Throwable cause) {
        buffer.clear();
        bufferOwner = null;
        for (int i = rotations.size() - 1; i >= 0; i--) {
            Rotation r = rotations.get(i);
            r.slot.current = r.previous;
            r.slot.index = r.previousIndex;
        }
        for (Touch t : touched) {
            OpenFile f = t.file;
            if (f.closed) {
                continue;
            }
            try {
                if (t.created) {
                    closeFile(f);
                    if (f.slot.current == f) {
                        f.slot.current = null;
                    }
                    Files.deleteIfExists(f.path);
                } else {
                    f.sink.truncate(t.startSize);
                    f.size = t.startSize;
                }
            } catch (IOException | RuntimeException e) {
                rateLimited.error("truncate", "File backend \"{}\": could not truncate {} back to {} bytes after a failed"
                        + " write; closing it, it is cut when next opened", name, f.path, t.startSize, e);
                truncateOnOpen.put(f.path, t.startSize);
                closeFile(f);
                if (f.slot.current == f) {
                    f.slot.current = null;
                }
            }
        }
        touched.clear();
        rotations.clear();
        rateLimited.warn("write", "File backend \"{}\": writing a batch of {} from {} failed, rolled back: {}", name,
                batch.size(), batch.source(), String.valueOf(cause));
    }

    // --- closing, rollover, compression -----------------------------------------------

    /** Closes a slot whose period is over (or rotated away) and compresses its last file. */
    private void retire(Slot slot) {
        slot.retired = true;
        slots.remove(slot.key, slot);
        OpenFile f = slot.current;
        slot.current = null;
        Path last = f != null ? f.path : slot.index >= 0 ? slot.pathOf(slot.index) : null;
        if (f != null) {
            closeFile(f);
        }
        if (last != null && Files.exists(last)) {
            rotationCount.incrementAndGet();
            submitCompress(last);
        }
    }

    /** Forces (per policy) and closes; failures are logged, the file is closed either way. */
    private void closeFile(OpenFile f) {
        if (f.closed) {
            return;
        }
        f.closed = true;
        openFiles--;
        if (bufferOwner == f) {
            bufferOwner = null;
        }
        try (FileSink sink = f.sink) {
            if (fsync != FsyncPolicy.NEVER && f.dirty) {
                sink.force();
                fsyncCount.incrementAndGet();
                f.dirty = false;
            }
        } catch (IOException e) {
            rateLimited.error("close", "File backend \"{}\": closing {} failed", name, f.path, e);
        }
    }

    private void closeQuietly(OpenFile f, Throwable cause) {
        f.closed = true;
        openFiles--;
        try {
            f.sink.close();
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /** Keeps the number of open files below max.open.files by closing the least recently written. */
    private void makeRoom() {
        while (openFiles >= maxOpenFiles) {
            Slot victim = null;
            for (Slot s : slots.values()) {
                OpenFile f = s.current;
                if (f != null && f.txn != txn && (victim == null || f.lastWrite < victim.current.lastWrite)) {
                    victim = s;
                }
            }
            if (victim == null) {
                return;
            }
            closeFile(victim.current);
            victim.current = null;
        }
    }

    private void submitCompress(Path file) {
        if (!compress) {
            return;
        }
        compressing.add(file);
        try {
            compressor.execute(() -> {
                try {
                    Path gz = Gzip.compress(file, fsync != FsyncPolicy.NEVER);
                    LOG.debug("File backend \"{}\": compressed {} to {}", name, file, gz);
                } catch (IOException | RuntimeException e) {
                    rateLimited.error("gzip", "File backend \"{}\": could not compress {}; left as is", name, file, e);
                } finally {
                    compressing.remove(file);
                }
            });
        } catch (RejectedExecutionException e) {
            compressing.remove(file);
            LOG.warn("File backend \"{}\": shutting down, {} is left uncompressed", name, file);
        }
    }

    private void force(OpenFile f) throws IOException {
        f.sink.force();
        fsyncCount.incrementAndGet();
        f.dirty = false;
    }

    private void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("File backend \"{}\": cannot fsync directory {} on this platform", name, dir, e);
        }
    }

    /**
     * {@code fsync=interval}: forces every file written to since its last fsync. The forcing
     * happens outside the lock so writers are not held up by the disk.
     */
    void syncDirty() {
        if (fsync != FsyncPolicy.INTERVAL) {
            return;
        }
        List<OpenFile> dirty = new ArrayList<>();
        lock.lock();
        try {
            for (Slot s : slots.values()) {
                OpenFile f = s.current;
                if (f != null && f.dirty) {
                    f.dirty = false;
                    dirty.add(f);
                }
            }
        } finally {
            lock.unlock();
        }
        for (OpenFile f : dirty) {
            try {
                f.sink.force();
                fsyncCount.incrementAndGet();
            } catch (ClosedChannelException e) {
                // closed meanwhile by the writer or the sweep, which forces before closing
                LOG.debug("File backend \"{}\": {} closed before its interval fsync", name, f.path);
            } catch (IOException e) {
                rateLimited.error("fsync", "File backend \"{}\": fsync of {} failed", name, f.path, e);
                lock.lock();
                try {
                    f.dirty = true;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** Closes files idle for idle.close.seconds and rolls over (compresses) files whose period is over. */
    void sweep() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            long now = clock.millis();
            long period = template.periodOf(now);
            List<Slot> over = new ArrayList<>();
            for (Slot s : slots.values()) {
                if (s.period != period) {
                    over.add(s);
                } else if (idleCloseMillis > 0 && s.current != null && now - s.current.lastWrite >= idleCloseMillis) {
                    LOG.debug("File backend \"{}\": closing idle {}", name, s.current.path);
                    closeFile(s.current);
                    s.current = null;
                }
            }
            for (Slot s : over) {
                retire(s);
            }
            // streams are only a cache of (source -> slot): forget sources that went quiet
            long streamTtl = idleCloseMillis > 0 ? idleCloseMillis : PathTemplate.HOUR_MILLIS;
            Iterator<Stream> it = streams.values().iterator();
            while (it.hasNext()) {
                if (now - it.next().lastWrite >= streamTtl) {
                    it.remove();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void syncDirtyLogged() {
        try {
            syncDirty();
        } catch (RuntimeException e) {
            rateLimited.error("task", "File backend \"{}\": interval fsync failed", name, e);
        }
    }

    private void sweepLogged() {
        try {
            sweep();
        } catch (RuntimeException e) {
            rateLimited.error("task", "File backend \"{}\": idle/rollover sweep failed", name, e);
        }
    }

    /**
     * Closes every file (forcing it unless {@code fsync=never}), compresses those whose period
     * is over, and waits for running compressions. Later writes fail.
     */
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            long period = template.periodOf(clock.millis());
            for (Slot s : new ArrayList<>(slots.values())) {
                if (s.period != period) {
                    retire(s);
                } else if (s.current != null) {
                    closeFile(s.current);
                    s.current = null;
                }
            }
            closed = true;
            slots.clear();
            streams.clear();
        } finally {
            lock.unlock();
        }
        scheduler.shutdownNow();
        compressor.shutdown();
        try {
            if (!compressor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("File backend \"{}\": compression still running after 60 s; interrupting it", name);
                compressor.shutdownNow();
            }
        } catch (InterruptedException e) {
            compressor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        LOG.info("File backend \"{}\" closed: {} messages, {} bytes written", name, messagesWritten.get(),
                bytesWritten.get());
    }

    // --- stats -------------------------------------------------------------------------

    @Override
    public Map<String, Number> stats() {
        Map<String, Number> m = new LinkedHashMap<>();
        m.put(bytesKey, bytesWritten.get());
        m.put(messagesKey, messagesWritten.get());
        m.put(openFilesKey, openFiles);
        m.put(rotationsKey, rotationCount.get());
        m.put(fsyncsKey, fsyncCount.get());
        return m;
    }

    @Override
    public String toString() {
        return "FileBackend[" + name + " → " + root + "/" + template + "]";
    }

    private static ThreadFactory daemon(String threadName) {
        return r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
    }

    // --- state -------------------------------------------------------------------------

    /** Per source name: its sanitised form and the slot each type wrote to last. */
    private static final class Stream {
        final String sanitised;
        final Slot[] byType = new Slot[MessageType.values().length];
        long lastWrite;

        Stream(String sanitised) {
            this.sanitised = sanitised;
        }
    }

    /** One template expansion: {@code a/2024-05-01.jsonl} and its size-rotated siblings {@code a/2024-05-01.<n>.jsonl}. */
    private static final class Slot {
        final String key;
        final Path dir;
        final String stem;
        final String ext;
        final long period;
        int index = -1;
        OpenFile current;
        boolean retired;

        Slot(String key, Path base, long period) {
            this.key = key;
            this.dir = base.getParent();
            String file = base.getFileName().toString();
            int dot = file.lastIndexOf('.');
            this.stem = dot > 0 ? file.substring(0, dot) : file;
            this.ext = dot > 0 ? file.substring(dot) : "";
            this.period = period;
        }

        Path pathOf(int i) {
            return dir.resolve(i == 0 ? stem + ext : stem + "." + i + ext);
        }
    }

    private static final class OpenFile {
        final Slot slot;
        final Path path;
        final FileSink sink;
        long size;
        long lastWrite;
        long txn = -1;
        boolean dirty;
        boolean closed;

        OpenFile(Slot slot, Path path, FileSink sink) {
            this.slot = slot;
            this.path = path;
            this.sink = sink;
        }
    }

    private record Touch(OpenFile file, long startSize, boolean created) {
    }

    private record Rotation(Slot slot, OpenFile previous, int previousIndex) {
    }
}
