package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.backend.file.internal.FileBackend;
import io.signalbox.backend.file.internal.FileBackendComponent;
import io.signalbox.backend.file.internal.FileSettings;

/**
 * {@link FileBackend#write} of 100-message batches of 170-byte lines (171 with the newline) to
 * a temporary folder, 4 sources in turn, default path template and buffer, with
 * {@code fsync=never} and {@code fsync=interval} (1 s, in the background as in production).
 * The primary score is batches/s; the {@code mib} counter is MiB/s of file data and
 * {@code messages} is messages/s. The folder is deleted after every iteration.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar FileBackendBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
public class FileBackendBenchmark {
    static final int LINE_BYTES = 170;
    static final int BATCH = 100;
    static final int SOURCES = 4;
    static final double BATCH_MIB = BATCH * (LINE_BYTES + 1) / (1024.0 * 1024.0);

    @Param({"never", "interval"})
    public String fsync;

    private Path dir;
    private FileBackend backend;
    private Batch[] batches;
    private int next;

    /** Per-iteration counters, reported by JMH as rates (per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public double mib;
        public long messages;

        @Setup(Level.Iteration)
        public void reset() {
            mib = 0;
            messages = 0;
        }
    }

    @Setup(Level.Trial)
    public void prepareBatches() {
        batches = new Batch[SOURCES * 8];
        for (int b = 0; b < batches.length; b++) {
            String source = "service-" + (b % SOURCES);
            List<Message> messages = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                messages.add(line(source, b * BATCH + i));
            }
            batches[b] = new Batch(source, messages);
        }
    }

    @Setup(Level.Iteration)
    public void open() throws IOException {
        dir = Files.createTempDirectory("signalbox-file-bench");
        Map<String, Object> props = Map.of("path", dir.toString(), "fsync", fsync);
        FileBackendComponent.Config config = Converters.standardConverter().convert(props)
                .to(FileBackendComponent.Config.class);
        backend = new FileBackend("bench", FileSettings.of(config, props));
    }

    @TearDown(Level.Iteration)
    public void closeAndDelete() throws IOException {
        backend.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public void writeBatch(Counters counters) throws IOException {
        backend.write(batches[next]);
        next = (next + 1) % batches.length;
        counters.mib += BATCH_MIB;
        counters.messages += BATCH;
    }

    /** An event line of exactly {@value #LINE_BYTES} bytes. */
    static Message line(String source, int i) {
        String head = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + (1_763_800_000_000L + i)
                + ",\"type\":\"event\",\"ctx\":{\"job_id\":\"job-" + (48_000 + i % 1000) + "\"},\"data\":{\"level\":\"info\",\"msg\":\"";
        String tail = "\"}}";
        StringBuilder msg = new StringBuilder("invoice ").append(i).append(" charged ");
        while (head.length() + msg.length() + tail.length() < LINE_BYTES) {
            msg.append('x');
        }
        byte[] bytes = (head + msg + tail).getBytes(StandardCharsets.UTF_8);
        if (bytes.length != LINE_BYTES) {
            throw new IllegalStateException("line of " + bytes.length + " bytes: " + new String(bytes, StandardCharsets.UTF_8));
        }
        return new Message(source, 1_763_800_000_000L + i, MessageType.EVENT, null, null, null, "info", null, bytes);
    }
}
