package io.signalbox.backend.file.internal;

import static io.signalbox.backend.file.internal.TestSupport.batch;
import static io.signalbox.backend.file.internal.TestSupport.gunzip;
import static io.signalbox.backend.file.internal.TestSupport.lines;
import static io.signalbox.backend.file.internal.TestSupport.message;
import static io.signalbox.backend.file.internal.TestSupport.read;
import static io.signalbox.backend.file.internal.TestSupport.rotatedSeries;
import static io.signalbox.backend.file.internal.TestSupport.settings;
import static io.signalbox.backend.file.internal.TestSupport.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Batch;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;
import io.signalbox.backend.file.internal.TestSupport.FakeClock;
import io.signalbox.backend.file.internal.TestSupport.Sinks;

class FileBackendTest {
    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock("2024-05-01T12:00:00Z");
    private final Sinks sinks = new Sinks();
    private final List<FileBackend> backends = new ArrayList<>();

    @AfterEach
    void closeBackends() {
        backends.forEach(FileBackend::close);
    }

    private FileBackend backend(Object... keyValues) {
        FileBackend b = new FileBackend("test", settings(dir, keyValues), clock, sinks);
        backends.add(b);
        return b;
    }

    private long stat(FileBackend b, String series) {
        return (long) MetricSamples.of(b).value(series, "backend", "test");
    }

    @Test
    void linesAreWrittenVerbatimToSourceAndWriteDateFile() throws Exception {
        FileBackend b = backend("fsync", "never");
        Batch first = batch("web", 0, 3);
        Batch second = batch("web", 3, 2);
        b.write(first);
        b.write(second);

        Path file = dir.resolve("web/2024-05-01.jsonl");
        byte[] expected = (String.join("\n", lines(first, second)) + "\n").getBytes(StandardCharsets.UTF_8);
        assertThat(Files.readAllBytes(file)).isEqualTo(expected);
        assertThat(stat(b, "signalbox_file_messages_written_total")).isEqualTo(5);
        assertThat(stat(b, "signalbox_file_bytes_written_total")).isEqualTo(expected.length);
        assertThat(stat(b, "signalbox_file_open_files")).isEqualTo(1);
    }

    @Test
    void unsafeSourceNamesStayInsideThePath() throws Exception {
        FileBackend b = backend("fsync", "never");
        b.write(new Batch("../../etc", List.of(message("../../etc", MessageType.EVENT, "x"))));
        try (Stream<Path> all = Files.walk(dir)) {
            assertThat(all.filter(Files::isRegularFile).collect(Collectors.toList()))
                    .containsExactly(dir.resolve("%2E%2E%2F.%2E%2Fetc/2024-05-01.jsonl"));
        }
    }

    @Test
    void dataFilesAreCreated0640AndTheirFolders0750() throws Exception {
        FileBackend b = backend("fsync", "never");
        b.write(new Batch("private", List.of(message("private", MessageType.EVENT, "x"))));
        Path file = dir.resolve("private/2024-05-01.jsonl");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-r-----");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
                .isEqualTo("rwxr-x---");
    }

    @Test
    void sourcesThatUsedToCollapseIntoOneFolderGetOneEach() throws Exception {
        FileBackend b = backend("fsync", "never");
        for (String source : List.of("a/b", "a b", "a\nb", "a_b")) {
            b.write(new Batch(source, List.of(message(source, MessageType.EVENT, source.replace("\n", "\\n")))));
        }
        try (Stream<Path> all = Files.walk(dir)) {
            assertThat(all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).collect(Collectors.toList()))
                    .containsExactlyInAnyOrder("a%2Fb/2024-05-01.jsonl", "a%20b/2024-05-01.jsonl",
                            "a%0Ab/2024-05-01.jsonl", "a_b/2024-05-01.jsonl");
        }
    }

    @Test
    void dayChangeStartsANewFileAndGzipsTheOldOne() throws Exception {
        FileBackend b = backend("fsync", "never", "compress.rotated", true);
        clock.set("2024-05-01T23:59:59Z");
        Batch day1 = batch("web", 0, 10);
        b.write(day1);
        clock.set("2024-05-02T00:00:01Z");
        Batch day2 = batch("web", 10, 5);
        b.write(day2);

        Path old = dir.resolve("web/2024-05-01.jsonl");
        Path gz = dir.resolve("web/2024-05-01.jsonl.gz");
        waitUntil("old file compressed", () -> Files.exists(gz) && !Files.exists(old));
        assertThat(gunzip(gz)).containsExactlyElementsOf(lines(day1));
        assertThat(read(dir.resolve("web/2024-05-02.jsonl"))).containsExactlyElementsOf(lines(day2));
        assertThat(stat(b, "signalbox_file_rotations_total")).isEqualTo(1);
        assertThat(stat(b, "signalbox_file_open_files")).isEqualTo(1);
    }

    @Test
    void sweepRollsOverAFileWhoseDayIsOverWithoutFurtherWrites() throws Exception {
        FileBackend b = backend("fsync", "never", "compress.rotated", true);
        Batch day1 = batch("quiet", 0, 3);
        b.write(day1);
        clock.set("2024-05-02T00:00:05Z");
        b.sweep();

        Path gz = dir.resolve("quiet/2024-05-01.jsonl.gz");
        waitUntil("compressed by the sweep", () -> Files.exists(gz) && !Files.exists(dir.resolve("quiet/2024-05-01.jsonl")));
        assertThat(gunzip(gz)).containsExactlyElementsOf(lines(day1));
        assertThat(stat(b, "signalbox_file_open_files")).isZero();
    }

    @Test
    void withoutCompressionTheOldDayStaysAPlainFile() throws Exception {
        FileBackend b = backend("fsync", "never");
        b.write(batch("web", 0, 2));
        clock.set("2024-05-02T08:00:00Z");
        b.write(batch("web", 2, 2));
        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).hasSize(2);
        assertThat(read(dir.resolve("web/2024-05-02.jsonl"))).hasSize(2);
        assertThat(Files.exists(dir.resolve("web/2024-05-01.jsonl.gz"))).isFalse();
    }

    @Test
    void sizeRotationContinuesInNumberedFilesWithoutSplittingLines() throws Exception {
        // 1024 bytes = 1/1024 MiB exactly
        FileBackend b = backend("fsync", "never", "rotate.size.mb", 1.0 / 1024);
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batches.add(batch("web", i * 7, 7));
            b.write(batches.get(i));
        }
        int lineBytes = batches.get(0).messages().get(0).line().length + 1;
        int perFile = 1024 / lineBytes;

        List<Path> files = List.of(dir.resolve("web/2024-05-01.jsonl"), dir.resolve("web/2024-05-01.1.jsonl"),
                dir.resolve("web/2024-05-01.2.jsonl"), dir.resolve("web/2024-05-01.3.jsonl"));
        List<String> all = new ArrayList<>();
        for (Path f : files) {
            assertThat(Files.size(f)).isLessThanOrEqualTo(1024);
            all.addAll(read(f));
        }
        assertThat(read(files.get(0))).hasSize(perFile);
        assertThat(all).containsExactlyElementsOf(lines(batches.toArray(new Batch[0])));
        assertThat(Files.exists(dir.resolve("web/2024-05-01.4.jsonl"))).isFalse();
        assertThat(stat(b, "signalbox_file_rotations_total")).isEqualTo(3);
        assertThat(stat(b, "signalbox_file_open_files")).isEqualTo(1);
    }

    /** Writes {@code before} and closes the backend, then writes {@code after} with a new one of the same configuration. */
    private void writeAcrossARestart(Batch before, Batch after, Object... keyValues) throws IOException {
        FileBackend b = backend(keyValues);
        b.write(before);
        b.close();
        backend(keyValues).write(after);
    }

    @Test
    void sizeRotatedFilesAreGzippedAndNumberingSkipsThem() throws Exception {
        Batch full = batch("web", 0, 20);
        Batch more = batch("web", 20, 1);
        // closing waits for the compressions; the restart continues after the compressed file, in the plain file that still has room
        writeAcrossARestart(full, more, "fsync", "never", "rotate.size.mb", 1.0 / 1024, "compress.rotated", true);

        assertThat(dir.resolve("web/2024-05-01.jsonl.gz")).exists();
        assertThat(rotatedSeries(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(full, more));
    }

    @Test
    void restartAppendsToTheExistingFileOfTheDay() throws Exception {
        Batch first = batch("web", 0, 3);
        Batch second = batch("web", 3, 3);
        writeAcrossARestart(first, second, "fsync", "never");

        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(first, second));
    }

    @Test
    void fsyncNeverNeverForces() throws Exception {
        FileBackend b = backend("fsync", "never");
        b.write(batch("a", 0, 5));
        b.write(batch("b", 0, 5));
        b.syncDirty();
        b.close();
        assertThat(sinks.forces).hasValue(0);
        assertThat(stat(b, "signalbox_file_fsyncs_total")).isZero();
    }

    @Test
    void fsyncBatchForcesEveryTouchedFileOncePerBatch() throws Exception {
        FileBackend b = backend("fsync", "batch", "path.template", "{source}/{type}.jsonl");
        b.write(batch("a", 0, 5));
        b.write(batch("a", 5, 5));
        b.write(new Batch("b", List.of(message("b", MessageType.EVENT, "e"), message("b", MessageType.METRIC, "m"))));
        assertThat(sinks.forces).hasValue(4);
        b.close(); // nothing dirty left: no more forces
        assertThat(sinks.forces).hasValue(4);
        assertThat(stat(b, "signalbox_file_fsyncs_total")).isEqualTo(4);
    }

    @Test
    void fsyncIntervalForcesOnlyFilesWrittenSinceTheLastRun() throws Exception {
        FileBackend b = backend("fsync", "interval", "fsync.interval.ms", 3_600_000);
        b.write(batch("a", 0, 5));
        b.write(batch("b", 0, 5));
        b.write(batch("a", 5, 5));
        assertThat(sinks.forces).hasValue(0);
        b.syncDirty();
        assertThat(sinks.forces).hasValue(2);
        b.syncDirty();
        assertThat(sinks.forces).hasValue(2);
        b.write(batch("b", 5, 1));
        b.close(); // closing forces the one dirty file
        assertThat(sinks.forces).hasValue(3);
        assertThat(stat(b, "signalbox_file_fsyncs_total")).isEqualTo(3);
    }

    @Test
    void fsyncIntervalRunsInTheBackgroundOnceStarted() throws Exception {
        FileBackend b = backend("fsync", "interval", "fsync.interval.ms", 20);
        b.start();
        b.write(batch("a", 0, 5));
        waitUntil("background fsync", () -> sinks.forces.get() >= 1);
    }

    @Test
    void failedWriteTruncatesTheFileSoTheRetryWritesEachLineOnce() throws Exception {
        FileBackend b = backend("fsync", "never", "buffer.kb", 1);
        Batch before = batch("web", 0, 5);
        b.write(before);
        Batch big = batch("web", 5, 100);
        sinks.failAfterBytes = 3000; // mid-batch, mid-line, after one buffer was written
        assertThatThrownBy(() -> b.write(big)).isInstanceOf(IOException.class).hasMessageContaining("No space");
        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(before));
        assertThat(stat(b, "signalbox_file_messages_written_total")).isEqualTo(5);

        sinks.failAfterBytes = -1;
        b.write(big);
        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(before, big));
    }

    @Test
    void failureAfterASizeRotationUndoesTheRotation() throws Exception {
        FileBackend b = backend("fsync", "never", "rotate.size.mb", 1.0 / 1024);
        Batch before = batch("web", 0, 3);
        b.write(before);
        Batch big = batch("web", 3, 30); // spans three files
        sinks.failAfterBytes = 2000;
        assertThatThrownBy(() -> b.write(big)).isInstanceOf(IOException.class);
        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(before));
        try (Stream<Path> files = Files.list(dir.resolve("web"))) {
            assertThat(files).containsExactly(dir.resolve("web/2024-05-01.jsonl"));
        }
        assertThat(stat(b, "signalbox_file_rotations_total")).isZero();

        sinks.failAfterBytes = -1;
        b.write(big);
        assertThat(rotatedSeries(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(before, big));
        assertThat(dir.resolve("web/2024-05-01.2.jsonl")).exists();
        assertThat(dir.resolve("web/2024-05-01.3.jsonl")).doesNotExist();
    }

    @Test
    void whenTruncateAlsoFailsThePartialLineIsCutOnReopen() throws Exception {
        FileBackend b = backend("fsync", "never");
        Batch before = batch("web", 0, 2);
        b.write(before);
        sinks.failAfterBytes = 100; // inside the second line of the batch
        sinks.failTruncate = true;
        Batch next = batch("web", 2, 5);
        assertThatThrownBy(() -> b.write(next)).isInstanceOf(IOException.class);
        assertThat(stat(b, "signalbox_file_open_files")).isZero();

        sinks.failAfterBytes = -1;
        sinks.failTruncate = false;
        b.write(next);
        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(before, next));
    }

    @Test
    void aFileEndingInATornLineIsRepairedWhenOpened() throws Exception {
        Path file = dir.resolve("web/2024-05-01.jsonl");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"complete\":1}\n{\"torn\":", StandardCharsets.UTF_8);
        FileBackend b = backend("fsync", "never");
        Batch batch = batch("web", 0, 2);
        b.write(batch);
        List<String> expected = new ArrayList<>(List.of("{\"complete\":1}"));
        expected.addAll(lines(batch));
        assertThat(read(file)).containsExactlyElementsOf(expected);
    }

    @Test
    void idleFilesAreClosedAndReopenedOnTheNextWrite() throws Exception {
        FileBackend b = backend("fsync", "never", "idle.close.seconds", 60);
        b.write(batch("a", 0, 2));
        b.write(batch("b", 0, 2));
        clock.advance(Duration.ofSeconds(30));
        b.write(batch("b", 2, 2));
        clock.advance(Duration.ofSeconds(31));
        b.sweep();
        assertThat(stat(b, "signalbox_file_open_files")).isEqualTo(1); // a closed, b written 31 s ago
        clock.advance(Duration.ofSeconds(30));
        b.sweep();
        assertThat(stat(b, "signalbox_file_open_files")).isZero();

        b.write(batch("a", 2, 2));
        assertThat(stat(b, "signalbox_file_open_files")).isEqualTo(1);
        assertThat(read(dir.resolve("a/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(batch("a", 0, 4)));
    }

    @Test
    void manySourcesEachGetTheirFileWithinTheOpenFileLimit() throws Exception {
        FileBackend b = backend("fsync", "never", "max.open.files", 50);
        for (int round = 0; round < 3; round++) {
            for (int s = 0; s < 500; s++) {
                b.write(batch("src-" + s, round * 2, 2));
                assertThat(stat(b, "signalbox_file_open_files")).isLessThanOrEqualTo(50);
            }
        }
        for (int s = 0; s < 500; s++) {
            assertThat(read(dir.resolve("src-" + s + "/2024-05-01.jsonl")))
                    .containsExactlyElementsOf(lines(batch("src-" + s, 0, 6)));
        }
        assertThat(stat(b, "signalbox_file_messages_written_total")).isEqualTo(3000);
    }

    /**
     * The process runs out of descriptors before max.open.files is reached (the auto value assumed
     * a higher limit, or something else holds many): the backend closes half of its files, lowers
     * its limit, says so, and the batch is written; nothing is lost or duplicated.
     */
    @Test
    void runningOutOfDescriptorsHalvesTheOpenFilesAndTheBatchIsStillWritten() throws Exception {
        FileBackend b = backend("fsync", "never", "max.open.files", 1000);
        assertThat(stat(b, "signalbox_file_max_open_files")).isEqualTo(1000);
        sinks.descriptorLimit = 20;
        for (int s = 0; s < 60; s++) {
            b.write(batch("src-" + s, 0, 2));
        }
        assertThat(stat(b, "signalbox_file_max_open_files")).isEqualTo(10);
        assertThat(stat(b, "signalbox_file_open_files")).isLessThanOrEqualTo(10);
        for (int s = 0; s < 60; s++) {
            b.write(batch("src-" + s, 2, 2));
        }
        for (int s = 0; s < 60; s++) {
            assertThat(read(dir.resolve("src-" + s + "/2024-05-01.jsonl")))
                    .containsExactlyElementsOf(lines(batch("src-" + s, 0, 4)));
        }
        assertThat(stat(b, "signalbox_file_messages_written_total")).isEqualTo(240);
    }

    @Test
    void aDescriptorShortageWithNoFileOfItsOwnToCloseFailsTheBatch() {
        FileBackend b = backend("fsync", "never");
        sinks.descriptorLimit = 0;
        assertThatThrownBy(() -> b.write(batch("a", 0, 1))).hasMessageContaining("Too many open files");
        assertThat(stat(b, "signalbox_file_messages_written_total")).isZero();
    }

    /**
     * More sources than max.open.files under fsync=interval: a file closed to make room is not forced by
     * the writer (an fsync per batch made 10,000 round-robin sources crawl at ~4,600 msg/s); the interval
     * run forces it by path, and the least recently written file is the one closed.
     */
    @Test
    void filesClosedToMakeRoomAreForcedByTheIntervalRunNotByTheWriter() throws Exception {
        FileBackend b = backend("fsync", "interval", "fsync.interval.ms", 3_600_000, "max.open.files", 2);
        b.write(batch("a", 0, 2));
        b.write(batch("b", 0, 2));
        b.write(batch("a", 2, 2)); // a is now the most recently written: b goes first
        b.write(batch("c", 0, 2));
        assertThat(stat(b, "signalbox_file_open_files")).isEqualTo(2);
        assertThat(sinks.forces).as("no fsync on the write path").hasValue(0);
        assertThat(stat(b, "signalbox_file_fsyncs_total")).isZero();
        b.write(batch("b", 2, 2)); // reopened: a (written before c) is closed now

        b.syncDirty();
        // evicted b (first time) and a by path, then the two open dirty files (c, b) through their sinks
        assertThat(stat(b, "signalbox_file_fsyncs_total")).isEqualTo(4);
        assertThat(sinks.forces).hasValue(2);
        b.syncDirty();
        assertThat(stat(b, "signalbox_file_fsyncs_total")).as("nothing new to force").isEqualTo(4);
        for (String src : List.of("a", "b")) {
            assertThat(read(dir.resolve(src + "/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(batch(src, 0, 4)));
        }
        assertThat(read(dir.resolve("c/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(batch("c", 0, 2)));
    }

    /**
     * A file closed to make room again and again before the next interval run is forced once by
     * it: the files waiting for it are a set (a list grew without bound when the disk was slower
     * than the evictions, until the heap was full).
     */
    @Test
    void aFileClosedManyTimesBeforeTheIntervalRunIsForcedOnceByIt() throws Exception {
        FileBackend b = backend("fsync", "interval", "fsync.interval.ms", 3_600_000, "max.open.files", 2);
        for (int round = 0; round < 100; round++) {
            for (String src : List.of("a", "b", "c")) {
                b.write(batch(src, round, 1));
            }
        }
        b.syncDirty();
        // a, b and c were each closed many times: forced once by path; the two open dirty files once more
        assertThat(stat(b, "signalbox_file_fsyncs_total")).isEqualTo(5);
        assertThat(MetricSamples.of(b).value("signalbox_file_fsync_round_seconds", "backend", "test")).isNotNegative();
    }

    /**
     * With more sources than max.open.files a file is reopened for nearly every batch: a file this
     * backend closed itself is not read again (its tail is known to end a line), but one that
     * changed on disk meanwhile is checked and a torn last line is cut as before.
     */
    @Test
    void aFileReopenedAfterBeingClosedToMakeRoomIsNotReReadUnlessItChangedMeanwhile() throws Exception {
        FileBackend b = backend("fsync", "never", "max.open.files", 1);
        for (int i = 0; i < 5; i++) {
            b.write(batch("a", i * 2, 2));
            b.write(batch("b", i * 2, 2)); // closes a; the next batch of a closes b
        }
        assertThat(sinks.reads).as("no tail read on a clean reopen").hasValue(0);

        b.write(batch("a", 10, 2)); // b is closed now, at a line boundary
        Path bFile = dir.resolve("b/2024-05-01.jsonl");
        Files.write(bFile, "{\"torn\":".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        b.write(batch("b", 10, 2));
        assertThat(sinks.reads.get()).as("the changed file's tail was checked").isPositive();
        assertThat(read(bFile)).containsExactlyElementsOf(lines(batch("b", 0, 12)));
        assertThat(read(dir.resolve("a/2024-05-01.jsonl"))).containsExactlyElementsOf(lines(batch("a", 0, 12)));
    }

    @Test
    void typePlaceholderSplitsABatchByTypeInOrder() throws Exception {
        FileBackend b = backend("fsync", "never", "path.template", "{type}/{source}/{date}T{hour}.jsonl");
        clock.set("2024-05-01T09:30:00Z");
        b.write(new Batch("api", List.of(message("api", MessageType.EVENT, "e1"), message("api", MessageType.METRIC, "m1"),
                message("api", MessageType.EVENT, "e2"), message("api", MessageType.SPAN, "s1"))));
        assertThat(read(dir.resolve("event/api/2024-05-01T09.jsonl")))
                .containsExactly(message("api", MessageType.EVENT, "e1").toString(),
                        message("api", MessageType.EVENT, "e2").toString());
        assertThat(read(dir.resolve("metric/api/2024-05-01T09.jsonl"))).hasSize(1);
        assertThat(read(dir.resolve("span/api/2024-05-01T09.jsonl"))).hasSize(1);
    }

    @Test
    void aLineLargerThanTheBufferIsWrittenWhole() throws Exception {
        FileBackend b = backend("fsync", "never", "buffer.kb", 1);
        String big = "x".repeat(5000);
        b.write(new Batch("web", List.of(message("web", MessageType.EVENT, "small"), message("web", MessageType.EVENT, big),
                message("web", MessageType.EVENT, "after"))));
        assertThat(read(dir.resolve("web/2024-05-01.jsonl"))).containsExactly(
                message("web", MessageType.EVENT, "small").toString(), message("web", MessageType.EVENT, big).toString(),
                message("web", MessageType.EVENT, "after").toString());
    }

    @Test
    void writesAfterCloseFail() {
        FileBackend b = backend("fsync", "never");
        b.close();
        assertThatThrownBy(() -> b.write(batch("web", 0, 1))).isInstanceOf(IOException.class).hasMessageContaining("closed");
    }

    @Test
    void concurrentWritersLoseAndTearNothing() throws Exception {
        FileBackend b = backend("fsync", "never", "buffer.kb", 4);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < 4; t++) {
            String src = "t" + (t % 2); // two threads per file
            int base = t * 10_000;
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 50; i++) {
                        b.write(batch(src, base + i * 20, 20));
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
        List<String> t0 = read(dir.resolve("t0/2024-05-01.jsonl"));
        assertThat(t0).hasSize(2000).doesNotHaveDuplicates();
        assertThat(t0).containsAll(lines(batch("t0", 0, 1000))).containsAll(lines(batch("t0", 20_000, 1000)));
    }
}
