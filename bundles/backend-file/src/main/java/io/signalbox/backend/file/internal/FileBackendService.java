package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.StatsSource;

/**
 * The registered service of one file backend instance: delegates to the {@link FileBackend} of
 * the configuration in force, so that a valid configuration change swaps the writer while the
 * registration (and routing's channel to it) stays. A swap waits for the batch being written,
 * closes the old writer's files (forced to disk unless {@code fsync=never}) and only then lets
 * the next batch through to the new one: the two never write at the same time.
 *
 * <p>Cost per batch: one uncontended read-lock acquisition.
 */
final class FileBackendService implements Backend, StatsSource {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile FileBackend current;

    FileBackendService(FileBackend first) {
        this.current = first;
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

    @Override
    public Map<String, Number> stats() {
        return current.stats();
    }

    /** The writer in force. */
    FileBackend current() {
        return current;
    }

    /** Waits for the batch being written, closes the old writer, then writes with {@code next}. */
    void replace(FileBackend next) {
        ReentrantReadWriteLock.WriteLock write = lock.writeLock();
        write.lock();
        try {
            FileBackend old = current;
            old.close();
            current = next;
        } finally {
            write.unlock();
        }
    }

    /** Waits for the batch being written and closes the writer; later writes fail. */
    void close() {
        ReentrantReadWriteLock.WriteLock write = lock.writeLock();
        write.lock();
        try {
            current.close();
        } finally {
            write.unlock();
        }
    }
}
