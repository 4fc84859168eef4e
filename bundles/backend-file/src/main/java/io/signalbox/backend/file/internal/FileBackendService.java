package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.Batch;
import io.signalbox.api.MetricsSink;

/**
 * The registered service of one file backend instance: delegates to the {@link FileBackend} of
 * the settings in force, so that a valid configuration change swaps the writer while the
 * registration (and routing's channel to it) stays. A swap waits for the batch being written,
 * closes the old writer's files (forced to disk unless {@code fsync=never}) and only then lets
 * the next batch through to the new one: the two never write at the same time.
 *
 * <p>Cost per batch: one uncontended read-lock acquisition.
 */
final class FileBackendService implements BackendLifecycle.Instance<FileSettings> {
    private final String name;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile FileBackend current;

    FileBackendService(String name, FileSettings settings) {
        this.name = name;
        this.current = new FileBackend(name, settings);
    }

    @Override
    public void write(Batch batch) throws IOException {
        ReentrantReadWriteLock.ReadLock read = lock.readLock();
        read.lock();
        try {
            current.write(batch);
        } finally {
            read.unlock();
        }
    }

    /** The counters restart with the new writer, as they do when the configuration changes. */
    @Override
    public void collect(MetricsSink sink) {
        current.collect(sink);
    }

    /** The writer in force. */
    FileBackend current() {
        return current;
    }

    /** Waits for the batch being written, closes the old writer, then writes with the new settings. */
    @Override
    public void update(FileSettings settings) {
        FileBackend next = new FileBackend(name, settings);
        ReentrantReadWriteLock.WriteLock write = lock.writeLock();
        write.lock();
        try {
            current.close();
            current = next;
        } finally {
            write.unlock();
        }
    }

    /** Waits for the batch being written and closes the writer; later writes fail. */
    @Override
    public void close() {
        ReentrantReadWriteLock.WriteLock write = lock.writeLock();
        write.lock();
        try {
            current.close();
        } finally {
            write.unlock();
        }
    }
}
