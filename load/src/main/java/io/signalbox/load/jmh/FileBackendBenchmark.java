package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import io.signalbox.backend.file.internal.FileConfig;
import io.signalbox.backend.file.internal.FileBackend;
import io.signalbox.backend.file.internal.FileBackendComponent;
import io.signalbox.backend.file.internal.FileSettings;

/**
 * {@link FileBackend#write} of 100-message batches of 170-byte lines (171 with the newline) to
 * a temporary folder, 4 sources in turn, default path template and buffer, with
 * {@code fsync=never} and {@code fsync=interval} (1 s, in the background as in production).
 * The primary score is batches/s; the {@code kib} counter is KiB/s of file data and
 * {@code messages} is messages/s. The folder is deleted after every iteration.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar FileBackendBenchmark}
 */
public class FileBackendBenchmark extends BackendBenchmark {
    private static final double BATCH_KIB = BATCH * (LINE_BYTES + 1) / 1024.0;

    @Param({"never", "interval"})
    public String fsync;

    private Path dir;
    private FileBackend backend;

    @Setup(Level.Trial)
    public void prepareBatches() {
        prepare(SOURCES * 8, BATCH);
    }

    @Setup(Level.Iteration)
    public void open() throws IOException {
        dir = Files.createTempDirectory("signalbox-file-bench");
        Map<String, Object> props = Map.of("path", dir.toString(), "fsync", fsync);
        backend = new FileBackend("bench", FileSettings.of(config(FileConfig.class, props), props));
    }

    @TearDown(Level.Iteration)
    public void closeAndDelete() throws IOException {
        backend.close();
        deleteTree(dir);
    }

    @Benchmark
    public void writeBatch(Counters counters) throws IOException {
        backend.write(nextBatch());
        counters.kib += BATCH_KIB;
        counters.messages += BATCH;
    }
}
