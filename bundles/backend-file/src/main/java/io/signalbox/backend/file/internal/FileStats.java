package io.signalbox.backend.file.internal;

import java.util.concurrent.atomic.AtomicLong;

import io.signalbox.api.MetricsSink;

/**
 * The counters of one file backend and the series they are reported as, each labelled
 * {@code backend=<instance name>}. Counted under the backend's lock, except fsyncs (also counted
 * by the interval task); read from any thread.
 */
final class FileStats {
    private final String name;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong rotations = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();
    /** Written under the backend's lock only. */
    private volatile int openFiles;
    /** max.open.files in force (auto resolved, lowered after running out of descriptors). */
    private volatile int maxOpenFiles;
    /** How long the last interval fsync run took, in seconds. */
    private volatile double fsyncRoundSeconds;

    FileStats(String name) {
        this.name = name;
    }

    void written(int messageCount, long byteCount) {
        bytes.addAndGet(byteCount);
        messages.addAndGet(messageCount);
    }

    void rotated() {
        rotations.incrementAndGet();
    }

    void forced() {
        fsyncs.incrementAndGet();
    }

    void fsyncRound(double seconds) {
        fsyncRoundSeconds = seconds;
    }

    /** Under the backend's lock. */
    void opened() {
        openFiles++;
    }

    /** Under the backend's lock. */
    void closed() {
        openFiles--;
    }

    int openFiles() {
        return openFiles;
    }

    void maxOpenFiles(int max) {
        maxOpenFiles = max;
    }

    void collect(MetricsSink sink) {
        sink.counter("signalbox_file_bytes_written_total", bytes.get(), "backend", name);
        sink.counter("signalbox_file_messages_written_total", messages.get(), "backend", name);
        sink.gauge("signalbox_file_open_files", openFiles, "backend", name);
        sink.gauge("signalbox_file_max_open_files", maxOpenFiles, "backend", name);
        sink.counter("signalbox_file_rotations_total", rotations.get(), "backend", name);
        sink.counter("signalbox_file_fsyncs_total", fsyncs.get(), "backend", name);
        sink.gauge("signalbox_file_fsync_round_seconds", fsyncRoundSeconds, "backend", name);
    }

    @Override
    public String toString() {
        return messages.get() + " messages, " + bytes.get() + " bytes written";
    }
}
