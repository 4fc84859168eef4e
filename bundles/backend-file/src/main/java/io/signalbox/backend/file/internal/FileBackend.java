package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricsSink;
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
 * <p>This class makes a batch such a transaction and runs the background tasks (interval fsync,
 * idle close and rollover); its parts are {@link OpenFiles} (the files, their limit, rollover and
 * undo), {@link Compressor} (gzip) and {@link FileStats} (the counters). {@link FileBackendService}
 * makes one per configuration (public for the load module's benchmark).
 */
public final class FileBackend implements Backend, StatsSource {
    private static final Logger LOG = LoggerFactory.getLogger(FileBackend.class);

    private final String name;
    private final FileSettings settings;
    private final PathTemplate template;
    private final Clock clock;
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    private final FileStats stats;
    private final Compressor compressor;
    private final ScheduledExecutorService scheduler;

    /** Guards everything below (and {@link #files}). */
    private final ReentrantLock lock = new ReentrantLock();
    private final OpenFiles files;
    /**
     * Lines on their way to {@code bufferOwner}, a file of the batch being written; empty between
     * batches (flushed by the batch, or cleared by its rollback).
     */
    private final ByteBuffer buffer;
    private OpenFile bufferOwner;
    private final HashMap<String, Stream> streams = new HashMap<>();
    /** The files the batch being written touched, with their lengths before it. */
    private final ArrayList<Touch> touched = new ArrayList<>();
    /** The size rotations of the batch being written; the old files are closed when it commits. */
    private final ArrayList<Rotation> rotations = new ArrayList<>();
    private long txn;
    private boolean closed;

    /** A backend writing with the system clock to real files; its background tasks run until {@link #close()}. */
    public FileBackend(String name, FileSettings settings) {
        this(name, settings, Clock.systemUTC(), FileSink.CHANNELS);
        if (settings.outsideHome()) {
            LOG.warn("File backend \"{}\" writes outside the distribution folder, under {} (allow.absolute.path=true)",
                    name, settings.root());
        }
        start();
    }

    /** For tests: an injected clock and files, no background tasks until {@link #start()}. */
    FileBackend(String name, FileSettings settings, Clock clock, FileSink.Factory sinks) {
        this.name = name;
        this.settings = settings;
        this.template = settings.template();
        this.clock = clock;
        this.stats = new FileStats(name);
        this.compressor = new Compressor(name, settings,
                Executors.newSingleThreadExecutor(daemon("signalbox-file-" + name + "-gzip")));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("signalbox-file-" + name));
        this.files = new OpenFiles(name, settings, sinks, stats, compressor);
        this.buffer = ByteBuffer.allocateDirect(settings.bufferBytes());
    }

    /** Schedules the background work: interval fsync, idle close and rollover of files whose period is over. */
    void start() {
        if (settings.fsync() == FsyncPolicy.INTERVAL) {
            schedule(this::syncDirty, settings.fsyncIntervalMillis(), "interval fsync");
        }
        long idle = settings.idleCloseMillis();
        schedule(this::sweep, idle > 0 ? Math.min(Math.max(idle / 2, 1000), 10_000) : 10_000, "idle/rollover sweep");
    }

    private void schedule(Runnable task, long periodMillis, String what) {
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                rateLimited.error("task", "File backend \"{}\": {} failed", name, what, e);
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** The settings it writes with. */
    FileSettings settings() {
        return settings;
    }

    // --- writing a batch ---------------------------------------------------------------

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
                if (settings.fsync() == FsyncPolicy.BATCH) {
                    for (int i = 0; i < touched.size(); i++) {
                        files.force(touched.get(i).file);
                    }
                }
            } catch (Throwable e) {
                rollback(batch, e);
                throw e;
            }
            commit(now);
            stats.written(n, bytes);
        } finally {
            lock.unlock();
        }
    }

    /** The slot (file series) a stream writes to now, retiring the one of a past period. */
    private Slot slotFor(Stream stream, MessageType type, long now, long period) throws IOException {
        int i = template.usesType() ? type.ordinal() : 0;
        Slot cached = stream.byType[i];
        if (cached != null && !cached.retired && cached.period == period) {
            return cached;
        }
        Slot slot = files.slot(template.expand(stream.sanitised, type, now), period);
        if (cached != null && cached != slot && !cached.retired && cached.period != period) {
            files.retire(cached);
        }
        stream.byType[i] = slot;
        return slot;
    }

    /** Appends messages [from, to) to the slot's current file, rotating by size; returns the bytes. */
    private long append(Slot slot, List<Message> messages, int from, int to) throws IOException {
        OpenFile file = current(slot);
        long rotateBytes = settings.rotateBytes();
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

    /** The open file of a slot, opening it as needed; recorded as touched by the batch. */
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
        OpenFile f = files.open(slot, txn);
        touched.add(new Touch(f, f.size, f.created));
        return f;
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
        boolean dirty = settings.fsync() == FsyncPolicy.INTERVAL;
        for (int i = 0; i < touched.size(); i++) {
            files.committed(touched.get(i).file, now, dirty);
        }
        for (int i = 0; i < rotations.size(); i++) {
            files.rotatedAway(rotations.get(i).previous);
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
            files.undo(t.file, t.startSize, t.created);
        }
        touched.clear();
        rotations.clear();
        rateLimited.warn("write", "File backend \"{}\": writing a batch of {} from {} failed, rolled back: {}", name,
                batch.size(), batch.source(), String.valueOf(cause));
    }

    // --- background tasks and closing ---------------------------------------------------

    /**
     * {@code fsync=interval}: forces every file written to since its last fsync. The forcing
     * happens outside the lock so writers are not held up by the disk.
     */
    void syncDirty() {
        if (settings.fsync() != FsyncPolicy.INTERVAL) {
            return;
        }
        long started = System.nanoTime();
        List<OpenFile> dirty;
        List<Path> evicted;
        lock.lock();
        try {
            dirty = files.takeDirty();
            evicted = files.takeEvictedUnsynced();
        } finally {
            lock.unlock();
        }
        for (Path p : evicted) {
            forceClosed(p);
        }
        for (OpenFile f : dirty) {
            try {
                f.sink.force();
                stats.forced();
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
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        stats.fsyncRound(tookMillis / 1000.0);
        if (tookMillis > settings.fsyncIntervalMillis()) {
            rateLimited.warn("fsync-behind", "File backend \"{}\": forcing {} files took {} ms, longer than "
                    + "fsync.interval.ms={}: more files are written per interval than the disk can force, so data "
                    + "reaches the disk later than the interval promises (fewer files, a longer interval, or fsync=never)",
                    name, evicted.size() + dirty.size(), tookMillis, settings.fsyncIntervalMillis());
        }
    }

    /**
     * Forces a file that was closed to make room (its data is in the page cache). Gone meanwhile
     * (compressed after its period ended): nothing left to force. Failing: logged, like any interval fsync.
     */
    private void forceClosed(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(false);
            stats.forced();
        } catch (NoSuchFileException e) {
            LOG.debug("File backend \"{}\": {} was compressed before its interval fsync", name, p);
        } catch (IOException e) {
            rateLimited.error("fsync", "File backend \"{}\": fsync of {} failed", name, p, e);
        }
    }

    /** Closes files idle for idle.close.seconds and rolls over (compresses) files whose period is over. */
    void sweep() {
        long idle = settings.idleCloseMillis();
        whileOpen(now -> {
            files.sweep(template.periodOf(now), idle > 0 ? now - idle : Long.MIN_VALUE);
            // streams are only a cache of (source -> slot): forget sources that went quiet
            long streamTtl = idle > 0 ? idle : PathTemplate.HOUR_MILLIS;
            streams.values().removeIf(s -> now - s.lastWrite >= streamTtl);
        });
    }

    /**
     * Closes every file (forcing it unless {@code fsync=never}), compresses those whose period
     * is over, and waits for running compressions. Later writes fail.
     */
    public void close() {
        boolean closing = whileOpen(now -> {
            files.closeAll(template.periodOf(now));
            files.takeEvictedUnsynced().forEach(this::forceClosed);
            streams.clear();
            closed = true;
        });
        if (!closing) {
            return;
        }
        scheduler.shutdownNow();
        compressor.close();
        LOG.info("File backend \"{}\" closed: {}", name, stats);
    }

    /** Runs {@code task} with the time under the lock, unless the backend is closed; returns whether it ran. */
    private boolean whileOpen(LongConsumer task) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            task.accept(clock.millis());
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        stats.collect(sink);
    }

    @Override
    public String toString() {
        return "FileBackend[" + name + " → " + settings.root() + "/" + template + "]";
    }

    private static ThreadFactory daemon(String threadName) {
        return r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
    }

    /** Per source name: its sanitised form and the slot each type wrote to last. */
    private static final class Stream {
        final String sanitised;
        final Slot[] byType = new Slot[MessageType.values().length];
        long lastWrite;

        Stream(String sanitised) {
            this.sanitised = sanitised;
        }
    }

    private record Touch(OpenFile file, long startSize, boolean created) {
    }

    private record Rotation(Slot slot, OpenFile previous, int previousIndex) {
    }
}
