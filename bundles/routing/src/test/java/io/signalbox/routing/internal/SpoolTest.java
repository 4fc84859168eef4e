package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.range;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

class SpoolTest {
    @TempDir
    Path dir;

    private static Supplier<RoutingSettings> limits(long maxBytes, long segmentBytes) {
        RoutingSettings settings = TestSupport.spoolSettings(maxBytes, segmentBytes);
        return () -> settings;
    }

    private static final Supplier<RoutingSettings> ROOMY = limits(1 << 30, 1 << 20);

    /** Replays (and consumes) everything, returning the timestamps in replay order. */
    private static List<Long> drain(Spool spool) throws IOException {
        List<Long> out = new ArrayList<>();
        Spool.Record r;
        while ((r = spool.peek()) != null) {
            for (Message m : r.batch().messages()) {
                out.add(m.timestamp());
            }
            spool.advance(r);
        }
        return out;
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(SpoolFiles.SUFFIX)).sorted().toList();
        }
    }

    @Test
    void batchesAreReplayedInAppendOrderWithEveryFieldIntact() throws IOException {
        Message span = new Message("web", 42, MessageType.SPAN, "t1", "s1", "p0", null,
                new SpanInfo("GET /", "ok", 40, 42), "{\"v\":1,\"type\":\"span\"}".getBytes(StandardCharsets.UTF_8));
        Message event = new Message("web", 43, MessageType.EVENT, null, null, null, "error", null,
                "{\"v\":1,\"type\":\"event\",\"é\":1}".getBytes(StandardCharsets.UTF_8));
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            spool.append(new Batch("web", List.of(span, event)));
            spool.append(TestSupport.events("web", 100, 3));
            assertThat(spool.messages()).isEqualTo(5);
            assertThat(spool.bytes()).isEqualTo(Files.size(segments().get(0)));

            Spool.Record first = spool.peek();
            Message s = first.batch().messages().get(0);
            Message e = first.batch().messages().get(1);
            assertThat(first.batch().source()).isEqualTo("web");
            assertThat(s.type()).isEqualTo(MessageType.SPAN);
            assertThat(s.traceId()).isEqualTo("t1");
            assertThat(s.spanId()).isEqualTo("s1");
            assertThat(s.parentSpanId()).isEqualTo("p0");
            assertThat(s.span()).isEqualTo(new SpanInfo("GET /", "ok", 40, 42));
            assertThat(s.line()).isEqualTo(span.line());
            assertThat(e.level()).isEqualTo("error");
            assertThat(e.isCritical()).isTrue();
            assertThat(e.line()).isEqualTo(event.line());
            Spool.Record again = spool.peek();
            assertThat(again.nextOffset()).as("peek does not consume").isEqualTo(first.nextOffset());
            assertThat(again.batch().size()).isEqualTo(2);
            spool.advance(first);
            assertThat(spool.messages()).isEqualTo(3);
            assertThat(drain(spool)).containsExactly(100L, 101L, 102L);
            assertThat(spool.isEmpty()).isTrue();
            assertThat(spool.messages()).isZero();
            assertThat(spool.bytes()).isZero();
        }
    }

    @Test
    void segmentsAreCreated0640InAFolder0750() throws IOException {
        Path spoolDir = dir.resolve("new-spool");
        try (Spool spool = Spool.open("b", spoolDir, ROOMY)) {
            spool.append(TestSupport.events("web", 0, 3));
            List<Path> segs;
            try (var s = java.nio.file.Files.list(spoolDir)) {
                segs = s.filter(p -> p.toString().endsWith(".seg")).toList();
            }
            assertThat(segs).isNotEmpty();
            for (Path seg : segs) {
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(seg)))
                        .isEqualTo("rw-r-----");
            }
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(spoolDir)))
                    .isEqualTo("rwxr-x---");
        }
    }

    @Test
    void segmentsRollAtTheirSizeAndAreDeletedOnceDelivered() throws IOException {
        try (Spool spool = Spool.open("b", dir, limits(1 << 30, 2_000))) {
            for (int i = 0; i < 50; i++) {
                spool.append(TestSupport.events("web", i * 2, 2));
            }
            List<Path> segs = segments();
            assertThat(segs).hasSizeGreaterThan(3);
            assertThat(segs.get(0).getFileName().toString()).isEqualTo("00000000000000000001.seg");
            for (Path p : segs) {
                assertThat(Files.size(p)).isLessThanOrEqualTo(2_000);
            }
            assertThat(drain(spool)).isEqualTo(range(0, 100));
            assertThat(segments()).hasSizeLessThanOrEqualTo(1); // only the segment still open for appends
        }
    }

    @Test
    void boundReachedDropsTheOldestSegmentAndCountsItsMessages() throws IOException {
        try (Spool spool = Spool.open("b", dir, limits(5_000, 1_000))) {
            for (int i = 0; i < 100; i++) {
                spool.append(TestSupport.events("web", i, 1));
            }
            assertThat(spool.bytes()).isLessThanOrEqualTo(5_000);
            assertThat(spool.droppedMessages()).isPositive();
            assertThat(spool.droppedMessages() + spool.messages()).isEqualTo(100);
            List<Long> replayed = drain(spool);
            // the newest ones are kept, contiguous and in order
            assertThat(replayed).isEqualTo(range(100 - replayed.size(), 100));
            assertThat((long) replayed.size()).isEqualTo(100 - spool.droppedMessages());
        }
    }

    @Test
    void tornTailRecordIsTruncatedAndCountedOnOpenAndEverythingBeforeIsKept() throws IOException {
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            for (int i = 0; i < 5; i++) {
                spool.append(TestSupport.events("web", i * 2, 2));
            }
        }
        Path seg = segments().get(0);
        long size = Files.size(seg);
        try (FileChannel c = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            c.truncate(size - 7); // a write torn by a crash
        }
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            assertThat(spool.corruptRecords()).isEqualTo(1);
            assertThat(spool.messages()).isEqualTo(8);
            assertThat(drain(spool)).isEqualTo(range(0, 8));
            spool.append(TestSupport.events("web", 100, 1)); // appends keep working after recovery
            assertThat(drain(spool)).containsExactly(100L);
        }
    }

    @Test
    void flippedByteInARecordTruncatesTheSegmentThereWithoutThrowing() throws IOException {
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            for (int i = 0; i < 4; i++) {
                spool.append(TestSupport.events("web", i, 1));
            }
        }
        Path seg = segments().get(0);
        long recordSize = Files.size(seg) / 4;
        try (FileChannel c = FileChannel.open(seg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            long at = 2 * recordSize + SpoolCodec.HEADER + 20; // inside the payload of the third record
            c.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x40));
            b.rewind();
            c.write(b, at);
        }
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            assertThat(spool.corruptRecords()).isEqualTo(1);
            assertThat(drain(spool)).containsExactly(0L, 1L);
        }
        assertThat(Files.size(seg)).isLessThanOrEqualTo(2 * recordSize);
    }

    @Test
    void garbageFilesAndGarbageSegmentsNeverStopTheSpoolFromOpening() throws IOException {
        Files.writeString(dir.resolve("notes.txt"), "not a segment");
        Files.write(dir.resolve("x.seg"), new byte[] { 1, 2, 3 });
        Files.write(dir.resolve(SpoolFiles.segmentName(7)), new byte[] { 0x7f, 0, 0, 0, 1, 2, 3, 4, 5 });
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            assertThat(spool.corruptRecords()).isEqualTo(1);
            assertThat(spool.isEmpty()).isTrue();
            spool.append(TestSupport.events("web", 5, 1));
            assertThat(drain(spool)).containsExactly(5L);
        }
    }

    @Test
    void contentsSurviveAReopenAndWhatWasDeliveredBeforeIsNotReplayedAgain() throws IOException {
        try (Spool spool = Spool.open("b", dir, limits(1 << 30, 1_500))) {
            for (int i = 0; i < 20; i++) {
                spool.append(TestSupport.events("web", i, 1));
            }
            for (int i = 0; i < 7; i++) { // deliver some, spanning a deleted segment
                spool.advance(spool.peek());
            }
        }
        try (Spool spool = Spool.open("b", dir, limits(1 << 30, 1_500))) {
            assertThat(spool.messages()).isEqualTo(13);
            assertThat(drain(spool)).isEqualTo(range(7, 20));
        }
        try (Spool spool = Spool.open("b", dir, ROOMY)) {
            assertThat(spool.isEmpty()).isTrue();
        }
    }

    @Test
    void backendNamesMapToSafeDirectoryNamesAndBack() {
        for (String name : List.of("files", "audit.v2", "a_b", "../etc", "db/primary", "naïve")) {
            String d = SpoolFiles.directoryName(name);
            assertThat(d).doesNotContain("/", "\\").isNotIn(".", "..");
            assertThat(SpoolFiles.backendName(d)).isEqualTo(name);
        }
        assertThat(SpoolFiles.directoryName("files")).isEqualTo("files");
    }
}
