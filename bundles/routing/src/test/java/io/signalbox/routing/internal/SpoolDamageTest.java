package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/**
 * Randomized damage tests of the spool: torn tails, flipped bytes, the size cap under
 * interleaved appends and replay, restarts at random points, damaged cursors.
 *
 * <p>Every run is repeatable: the seed is fixed unless {@code -Dspool.damage.seed=<n>} (or
 * {@code =random}) is given, and it is logged and named in every failure, as is the iteration.
 * {@code -Dspool.damage.iterations=<n>} runs more (or fewer) iterations per test.
 */
class SpoolDamageTest {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolDamageTest.class);

    private static final long DEFAULT_SEED = 0x5B0C_0005_D0A6EL;
    private static final long SEED = seed();
    private static final int ITERATIONS = Integer.getInteger("spool.damage.iterations", 200);
    private static final long ROOMY = 1L << 30;

    @TempDir
    Path root;

    private static long seed() {
        String s = System.getProperty("spool.damage.seed");
        if (s == null || s.isBlank()) {
            return DEFAULT_SEED;
        }
        return s.equals("random") ? new Random().nextLong() : Long.decode(s.trim());
    }

    @BeforeAll
    static void logSeed() {
        LOG.info("spool damage tests: seed {}, {} iterations per test (repeat with -Dspool.damage.seed={})", SEED,
                ITERATIONS, SEED);
    }

    /** The random source of one iteration of one test, derived from the seed only. */
    private static Random random(int test, int iteration) {
        return new Random(SEED * 1_000_003L + test * 10_007L + iteration);
    }

    private static String where(String test, int iteration) {
        return "seed " + SEED + ", " + test + ", iteration " + iteration + " (-Dspool.damage.seed=" + SEED + ")";
    }

    // --- 1. torn writes ----------------------------------------------------------------------

    @Test
    void tornTailIsTruncatedToTheRecordsBeforeTheCutAndNewAppendsReplayAfterThem() throws IOException {
        for (int it = 0; it < ITERATIONS; it++) {
            Scene scene = new Scene(random(1, it), root.resolve("torn-" + it), 1_000, 5_000);
            int advanced = scene.fillAndAdvance(where("torn tail, before the damage", it));
            Path last = lastSegment(scene.dir);
            String lastName = last.getFileName().toString();
            List<Long> boundaries = scene.log.boundaries(lastName);
            long size = Files.size(last);
            long cut = scene.rnd.nextInt(4) == 0 ? boundaries.get(scene.rnd.nextInt(boundaries.size()))
                    : (long) scene.rnd.nextInt((int) size + 1);
            try (FileChannel c = FileChannel.open(last, StandardOpenOption.WRITE)) {
                c.truncate(cut); // a write torn by a crash
            }
            long keptSize = boundaries.stream().filter(b -> b <= cut).mapToLong(Long::longValue).max().orElse(0);
            List<Placed> expected = scene.log.placed.stream()
                    .filter(p -> p.index() >= advanced && (!p.segment().equals(lastName) || p.end() <= cut))
                    .toList();
            String where = where("torn tail", it) + ", " + scene.log.placed.size() + " batches, " + advanced
                    + " advanced, " + lastName + " (" + size + " bytes, records end at " + boundaries + ") cut at "
                    + cut;
            scene.recoverReplayAndRestart(expected, boundaries.contains(cut) ? 0 : 1, last, keptSize, 1, 6, where);
        }
    }

    // --- 2. flipped bytes --------------------------------------------------------------------

    @Test
    void flippedByteTruncatesItsSegmentAtTheDamagedRecordAndKeepsEveryOtherRecord() throws IOException {
        for (int it = 0; it < ITERATIONS; it++) {
            Scene scene = new Scene(random(2, it), root.resolve("flip-" + it), 1_000, 5_000);
            int advanced = scene.fillAndAdvance(where("flipped byte, before the damage", it));
            List<Path> files = segments(scene.dir).stream().filter(p -> sizeOf(p) > 0).toList();
            Path victim = files.get(scene.rnd.nextInt(files.size()));
            String victimName = victim.getFileName().toString();
            long size = Files.size(victim);
            long at = (long) (scene.rnd.nextDouble() * size);
            int mask = 1 + scene.rnd.nextInt(255);
            try (FileChannel c = FileChannel.open(victim, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(1);
                c.read(b, at);
                b.put(0, (byte) (b.get(0) ^ mask));
                b.rewind();
                c.write(b, at);
            }
            Placed damaged = scene.log.placed.stream()
                    .filter(p -> p.segment().equals(victimName) && p.start() <= at && at < p.end())
                    .findFirst().orElseThrow();
            List<Placed> expected = scene.log.placed.stream()
                    .filter(p -> p.index() >= advanced
                            && (!p.segment().equals(victimName) || p.start() < damaged.start()))
                    .toList();
            String where = where("flipped byte", it) + ", " + scene.log.placed.size() + " batches in " + files.size()
                    + " segments, " + advanced + " advanced, byte " + at + " of " + victimName + " (" + size
                    + " bytes) xor " + mask + ", in the record at " + damaged.start() + ".." + damaged.end();
            scene.recoverReplayAndRestart(expected, 1, victim, damaged.start(), 0, 4, where);
        }
    }

    /** One iteration of a damage test: a spool in {@code dir}, random batches, and where each one landed. */
    private static final class Scene {
        final Random rnd;
        final Path dir;
        final Bounds bounds;
        final Gen gen;
        final Placements log;

        /** Segments of {@code minSegment} bytes and up to {@code segmentSpread - 1} more. */
        Scene(Random rnd, Path dir, int minSegment, int segmentSpread) {
            this.rnd = rnd;
            this.dir = dir;
            this.bounds = new Bounds(ROOMY, minSegment + rnd.nextInt(segmentSpread));
            this.gen = new Gen(rnd, 5, 300);
            this.log = new Placements(dir);
        }

        /** Appends a few batches and delivers some of them (then the cursor is written too); returns how many. */
        int fillAndAdvance(String where) throws IOException {
            try (Spool spool = Spool.open("b", dir, bounds)) {
                int k = 3 + rnd.nextInt(22);
                for (int i = 0; i < k; i++) {
                    log.append(spool, gen.batch());
                }
                int advanced = rnd.nextBoolean() ? 0 : rnd.nextInt(k + 1);
                for (int i = 0; i < advanced; i++) {
                    Spool.Record r = spool.peek();
                    assertSameBatch(log.get(i).batch(), r, where);
                    spool.advance(r);
                }
                return advanced;
            }
        }

        /**
         * Opens the damaged spool: {@code corrupt} records truncated, {@code expected} left,
         * {@code damaged} (kept only if not empty) at {@code keptSize}; replays some, appends
         * {@code minAppends} + up to {@code appendBound - 1} batches, and checks that a restart
         * replays the rest and the new ones, once, in order, with the damage gone.
         */
        void recoverReplayAndRestart(List<Placed> expected, int corrupt, Path damaged, long keptSize, int minAppends,
                int appendBound, String where) throws IOException {
            List<Batch> want = new ArrayList<>(batches(expected));
            int replayedFirst;
            try (Spool spool = Spool.open("b", dir, bounds)) {
                assertThat(spool.corruptRecords()).as(where).isEqualTo(corrupt);
                assertThat(spool.droppedMessages()).as(where).isZero();
                assertThat(spool.messages()).as(where).isEqualTo(messages(expected));
                assertThat(spool.bytes()).as(where).isEqualTo(bytes(expected));
                // a segment left with no record is removed at recovery
                assertThat(sizeOrZero(damaged)).as(where + ": size after recovery").isEqualTo(keptSize);
                assertThat(Files.exists(damaged)).as(where + ": kept unless empty").isEqualTo(keptSize > 0);

                replayedFirst = rnd.nextInt(expected.size() + 1);
                assertSameBatches(want.subList(0, replayedFirst), drain(spool, replayedFirst), where);
                for (int i = minAppends + rnd.nextInt(appendBound); i > 0; i--) {
                    Batch b = gen.batch();
                    want.add(b);
                    spool.append(b); // appends keep working after recovery
                }
            }
            try (Spool spool = Spool.open("b", dir, bounds)) { // and survive the next restart
                String restarted = where + ", " + replayedFirst + " replayed, " + (want.size() - expected.size())
                        + " appended, restarted";
                assertThat(spool.corruptRecords()).as(restarted + ": the damage is gone after one recovery").isZero();
                // every batch before the damage and in the other segments, and what came after, once, in order
                assertSameBatches(want.subList(replayedFirst, want.size()), drain(spool, Integer.MAX_VALUE), restarted);
                assertEmpty(spool, restarted);
            }
        }
    }

    // --- 3. the size cap ---------------------------------------------------------------------

    private enum Fate {
        QUEUED, REPLAYED, DROPPED
    }

    @Test
    void capKeepsBytesBoundedAndEveryAppendedMessageIsReplayedDroppedOrQueued() throws IOException {
        for (int it = 0; it < ITERATIONS; it++) {
            Random rnd = random(3, it);
            Path dir = root.resolve("cap-" + it);
            long max = 4_000 + rnd.nextInt(12_000);
            long segment = max / 4 + rnd.nextInt((int) max); // a few segments fit under the bound
            int deliver = 5 + rnd.nextInt(35); // % of steps that deliver: from falling far behind to keeping up
            Bounds bounds = new Bounds(max, segment);
            Gen gen = new Gen(rnd, 5, 250);
            Placements log = new Placements(dir);
            List<Fate> fate = new ArrayList<>();
            int next = 0; // first batch whose fate is not known yet
            long bound = max; // the bound in force at the last append
            long largestRecord = 0;
            String where = where("cap", it) + ", maxBytes " + max + ", segmentBytes " + segment + ", delivering "
                    + deliver + " %";
            try (Spool spool = Spool.open("b", dir, bounds)) {
                int steps = 50 + rnd.nextInt(50);
                for (int step = 0; step < steps; step++) {
                    String at = where + ", step " + step;
                    int op = rnd.nextInt(100);
                    if (op < deliver) { // the writer delivers one record
                        Spool.Record r = spool.peek();
                        next = settle(log, fate, next, r, spool, at);
                        if (r != null) {
                            long before = spool.messages();
                            spool.advance(r);
                            assertThat(before - spool.messages()).as(at + ": advance").isEqualTo(r.batch().size());
                            fate.set(next++, Fate.REPLAYED);
                        }
                    } else if (op < deliver + 5) { // a peek without delivery changes nothing
                        next = settle(log, fate, next, spool.peek(), spool, at);
                    } else if (op < deliver + 13) { // the spooler appends while the writer delivers
                        Spool.Record r = spool.peek();
                        next = settle(log, fate, next, r, spool, at);
                        long droppedBefore = spool.droppedMessages();
                        Batch b = rnd.nextInt(10) == 0 ? gen.huge((int) bounds.max) : gen.batch();
                        Placed p = log.append(spool, b);
                        fate.add(Fate.QUEUED);
                        bound = bounds.max;
                        largestRecord = Math.max(largestRecord, p.length());
                        if (r != null) {
                            long before = spool.messages();
                            spool.advance(r);
                            if (spool.droppedMessages() > droppedBefore) {
                                // the oldest segment, the one being delivered, was dropped under the writer
                                assertThat(spool.messages()).as(at + ": advance of a dropped record").isEqualTo(before);
                                fate.set(next++, Fate.DROPPED);
                            } else {
                                assertThat(before - spool.messages()).as(at + ": advance").isEqualTo(r.batch().size());
                                fate.set(next++, Fate.REPLAYED);
                            }
                        }
                    } else if (op < deliver + 15) { // the configuration changes; it applies from the next append
                        bounds.max = max / 2 + rnd.nextInt((int) max);
                    } else {
                        Batch b = rnd.nextInt(50) == 0 ? gen.huge((int) bounds.max) : gen.batch();
                        Placed p = log.append(spool, b);
                        fate.add(Fate.QUEUED);
                        bound = bounds.max;
                        largestRecord = Math.max(largestRecord, p.length());
                    }

                    long appended = messages(log.placed);
                    long replayed = messages(log.placed, fate, Fate.REPLAYED);
                    assertThat(replayed + spool.droppedMessages() + spool.messages())
                            .as(at + ": appended = replayed + dropped + queued").isEqualTo(appended);
                    if (spool.bytes() > bound) { // the only exception: one record larger than the bound
                        Placed newest = log.placed.get(log.placed.size() - 1);
                        assertThat(newest.length()).as(at + ": bytes " + spool.bytes() + " > bound " + bound
                                + " although the newest record is not larger than the bound").isGreaterThan(bound);
                        assertThat(spool.bytes()).as(at + ": only the oversized record").isEqualTo(newest.length());
                        assertThat(spool.messages()).as(at + ": only the oversized record")
                                .isEqualTo(newest.batch().size());
                    }
                    assertThat(spool.bytes()).as(at).isNotNegative();
                    assertThat(spool.messages()).as(at).isNotNegative();
                    if (spool.isEmpty()) {
                        assertThat(spool.bytes()).as(at + ": empty").isZero();
                        assertThat(spool.messages()).as(at + ": empty").isZero();
                    }
                    long disk = segments(dir).stream().mapToLong(SpoolDamageTest::sizeOf).sum();
                    assertThat(disk - spool.bytes()).as(at + ": delivered bytes still on disk (one segment at most)")
                            .isBetween(0L, Math.max(segment, largestRecord));
                }
                // the rest is replayed in order, and every appended message is accounted for
                Spool.Record r;
                int guard = 0;
                while ((r = spool.peek()) != null) {
                    next = settle(log, fate, next, r, spool, where + ", final drain");
                    spool.advance(r);
                    fate.set(next++, Fate.REPLAYED);
                    assertThat(++guard).as(where + ": drain terminates").isLessThan(100_000);
                }
                next = settle(log, fate, next, null, spool, where + ", final drain");
                assertEmpty(spool, where);
                assertThat(messages(log.placed, fate, Fate.REPLAYED) + spool.droppedMessages()).as(where)
                        .isEqualTo(messages(log.placed));
            }
            // only whole segments were dropped: per segment, replayed records then dropped ones
            Map<String, Fate> lastFate = new HashMap<>();
            for (Placed p : log.placed) {
                Fate f = fate.get(p.index());
                Fate before = lastFate.put(p.segment(), f);
                if (before == Fate.DROPPED) {
                    assertThat(f).as(where + ": batch " + p.index() + " of " + p.segment()
                            + " follows a dropped one of its segment").isEqualTo(Fate.DROPPED);
                }
            }
        }
    }

    /**
     * Checks the record a peek returned against the model: it is the oldest batch not yet
     * replayed or dropped, fields intact, and every batch skipped before it was dropped (a
     * {@code null} record means everything left was dropped). Returns the new {@code next}.
     */
    private static int settle(Placements log, List<Fate> fate, int next, Spool.Record r, Spool spool, String at) {
        int k = r == null ? log.placed.size() : index(r.batch());
        assertThat(k).as(at + ": replay never goes back (batch " + k + ", expected at least " + next + ")")
                .isGreaterThanOrEqualTo(next);
        for (int i = next; i < k; i++) {
            assertThat(fate.get(i)).as(at).isEqualTo(Fate.QUEUED);
            fate.set(i, Fate.DROPPED);
        }
        if (r != null) {
            assertSameBatch(log.get(k).batch(), r, at);
        }
        assertThat(spool.droppedMessages()).as(at + ": dropped = the batches replay skipped")
                .isEqualTo(messages(log.placed, fate, Fate.DROPPED));
        return k;
    }

    // --- 4. restarts at random points --------------------------------------------------------

    @Test
    void reopenAtRandomPointsNeitherReplaysWhatWasAdvancedNorLosesWhatWasNot() throws IOException {
        for (int it = 0; it < ITERATIONS; it++) {
            Scene scene = new Scene(random(4, it), root.resolve("reopen-" + it), 2_000, 6_000);
            ArrayDeque<Placed> pending = new ArrayDeque<>();
            String where = where("reopen", it);
            int reopens = 0;
            Spool spool = Spool.open("b", scene.dir, scene.bounds);
            try {
                int steps = 40 + scene.rnd.nextInt(50);
                for (int step = 0; step < steps; step++) {
                    String at = where + ", step " + step + " after " + reopens + " reopens";
                    int op = scene.rnd.nextInt(100);
                    if (op < 50) {
                        pending.addLast(scene.log.append(spool, scene.gen.batch()));
                    } else if (op < 85) {
                        Spool.Record r = spool.peek();
                        if (pending.isEmpty()) {
                            assertThat(r).as(at).isNull();
                        } else {
                            assertSameBatch(pending.peekFirst().batch(), r, at);
                            spool.advance(r);
                            pending.removeFirst();
                        }
                    } else if (op < 92) { // peeked (maybe being delivered) but not advanced: replayed again
                        Spool.Record r = spool.peek();
                        if (!pending.isEmpty()) {
                            assertSameBatch(pending.peekFirst().batch(), r, at);
                        }
                    } else {
                        spool.close();
                        spool = Spool.open("b", scene.dir, scene.bounds);
                        reopens++;
                        assertThat(spool.corruptRecords()).as(at).isZero();
                        assertThat(spool.droppedMessages()).as(at).isZero();
                        assertThat(spool.messages()).as(at).isEqualTo(messages(pending));
                        assertThat(spool.bytes()).as(at).isEqualTo(bytes(pending));
                        assertThat(spool.isEmpty()).as(at).isEqualTo(pending.isEmpty());
                    }
                    assertThat(spool.messages()).as(at).isEqualTo(messages(pending));
                }
            } finally {
                spool.close();
            }
            try (Spool again = Spool.open("b", scene.dir, scene.bounds)) {
                assertSameBatches(batches(pending), drain(again, Integer.MAX_VALUE), where + ", final replay");
                assertEmpty(again, where);
            }
            try (Spool again = Spool.open("b", scene.dir, scene.bounds)) {
                assertThat(again.isEmpty()).as(where + ": nothing replayed twice").isTrue();
                assertThat(again.messages()).as(where).isZero();
            }
            assertThat(segments(scene.dir)).as(where + ": delivered segments are deleted").hasSizeLessThanOrEqualTo(1);
        }
    }

    // --- 5. a damaged cursor -----------------------------------------------------------------

    @Test
    void damagedCursorReplaysDeliveredRecordsOfItsSegmentAgainButLosesNothing() throws IOException {
        for (int it = 0; it < ITERATIONS / 2; it++) {
            Scene scene = new Scene(random(5, it), root.resolve("cursor-" + it), 1_000, 4_000);
            int k = 2 + scene.rnd.nextInt(20);
            int advanced = 1 + scene.rnd.nextInt(k);
            try (Spool spool = Spool.open("b", scene.dir, scene.bounds)) {
                for (int i = 0; i < k; i++) {
                    scene.log.append(spool, scene.gen.batch());
                }
                for (int i = 0; i < advanced; i++) {
                    spool.advance(spool.peek());
                }
            }
            Path cursor = scene.dir.resolve("cursor");
            assertThat(cursor).exists();
            String damage;
            switch (scene.rnd.nextInt(3)) {
                case 0 -> {
                    byte[] b = Files.readAllBytes(cursor);
                    int at = scene.rnd.nextInt(b.length);
                    b[at] ^= (byte) (1 + scene.rnd.nextInt(255));
                    Files.write(cursor, b);
                    damage = "byte " + at + " flipped";
                }
                case 1 -> {
                    int keep = scene.rnd.nextInt((int) Files.size(cursor));
                    try (FileChannel c = FileChannel.open(cursor, StandardOpenOption.WRITE)) {
                        c.truncate(keep);
                    }
                    damage = "torn to " + keep + " bytes";
                }
                default -> {
                    byte[] garbage = new byte[scene.rnd.nextInt(64)];
                    scene.rnd.nextBytes(garbage);
                    Files.write(cursor, garbage);
                    damage = garbage.length + " bytes of garbage";
                }
            }
            List<String> onDisk = segments(scene.dir).stream().map(p -> p.getFileName().toString()).toList();
            // the delivered segments are gone; of the head segment everything is replayed again
            List<Placed> expected = scene.log.placed.stream().filter(p -> onDisk.contains(p.segment())).toList();
            String where = where("cursor", it) + ", " + k + " batches, " + advanced + " advanced, cursor " + damage;
            assertThat(expected).as(where).containsAll(scene.log.placed.subList(advanced, k));
            try (Spool spool = Spool.open("b", scene.dir, scene.bounds)) {
                assertThat(spool.corruptRecords()).as(where).isZero();
                assertSameBatches(batches(expected), drain(spool, Integer.MAX_VALUE), where);
                assertEmpty(spool, where);
            }
        }
    }

    // --- 6. garbage files ---------------------------------------------------------------------

    /**
     * Names like a segment's at the edges of the number range: 0, the largest numbers of 18 and
     * 19 digits, around {@link Long#MAX_VALUE}, and 20-digit numbers that a parser without an
     * overflow check wraps around onto small ones (5 * 2^64 + 1 onto 1, a real segment).
     */
    private static final String[] EDGE_NAMES = { "00000000000000000000", "00999999999999999999",
        "00999999999999999998", "00099999999999999999", "09223372036854775807", "09223372036854775806",
        "09223372036854775808", "92233720368547758081", "92233720368547758082", "92469899052215776230",
        "18446744073709551616", "99999999999999999999" };

    @Test
    void garbageFilesBesideTheSegmentsAreIgnoredOrTruncatedAndNeverStopTheSpool() throws IOException {
        for (int it = 0; it < ITERATIONS / 2; it++) {
            Scene scene = new Scene(random(6, it), root.resolve("garbage-" + it), 1_000, 5_000);
            try (Spool spool = Spool.open("b", scene.dir, scene.bounds)) {
                for (int i = 1 + scene.rnd.nextInt(15); i > 0; i--) {
                    scene.log.append(spool, scene.gen.batch());
                }
            }
            List<String> garbage = new ArrayList<>();
            for (int n = 1 + scene.rnd.nextInt(6); n >= 0; n--) {
                String name = n == 0 ? EDGE_NAMES[it % EDGE_NAMES.length] + ".seg" : switch (scene.rnd.nextInt(5)) {
                    case 0 -> "notes-" + scene.rnd.nextInt(1000) + (scene.rnd.nextBoolean() ? ".txt" : ".seg.tmp");
                    case 1 -> digits(scene.rnd, 1 + scene.rnd.nextInt(30)).replaceFirst("^(\\d{20})$", "$1x") + ".seg";
                    case 2 -> String.format("%020d", nines(scene.rnd.nextInt(20)) - scene.rnd.nextInt(2)) + ".seg"; // 9…9, 9…8
                    default -> digits(scene.rnd, 20) + ".seg"; // a name like a segment's, any number
                };
                byte[] content = new byte[scene.rnd.nextInt(4) == 0 ? 0 : scene.rnd.nextInt(300)];
                scene.rnd.nextBytes(content);
                if (!Files.exists(scene.dir.resolve(name))) {
                    Files.write(scene.dir.resolve(name), content);
                    garbage.add(name + " (" + content.length + " bytes)");
                }
            }
            String where = where("garbage", it) + ", " + scene.log.placed.size() + " batches, garbage " + garbage;
            List<Batch> want = new ArrayList<>(batches(scene.log.placed));
            try (Spool spool = Spool.open("b", scene.dir, scene.bounds)) {
                assertThat(spool.corruptRecords()).as(where).isLessThanOrEqualTo(garbage.size());
                assertThat(spool.messages()).as(where).isEqualTo(messages(scene.log.placed));
                for (int i = 1 + scene.rnd.nextInt(3); i > 0; i--) {
                    Batch b = scene.gen.batch();
                    want.add(b);
                    spool.append(b);
                }
            }
            try (Spool spool = Spool.open("b", scene.dir, scene.bounds)) { // what was appended beside the garbage survives too
                assertSameBatches(want, drain(spool, Integer.MAX_VALUE), where);
                assertEmpty(spool, where);
            }
        }
    }

    @Test
    void directoryNamedLikeASegmentIsIgnoredAndTheSegmentsAreReplayed() throws IOException {
        Path dir = root.resolve("directory");
        Gen gen = new Gen(new Random(SEED), 3, 100);
        Placements log = new Placements(dir);
        Bounds bounds = new Bounds(ROOMY, 1 << 20);
        try (Spool spool = Spool.open("b", dir, bounds)) {
            log.append(spool, gen.batch());
            log.append(spool, gen.batch());
        }
        Files.createDirectory(dir.resolve(SpoolFiles.segmentName(7)));
        try (Spool spool = Spool.open("b", dir, bounds)) {
            assertSameBatches(batches(log.placed), drain(spool, Integer.MAX_VALUE), "a directory 7.seg");
        }
    }

    /** {@code 10^n - 1} (all nines), or {@link Long#MAX_VALUE} for {@code n} of 19 or more. */
    private static long nines(int n) {
        long v = 0;
        for (int i = 0; i < Math.min(n, 18); i++) {
            v = v * 10 + 9;
        }
        return n >= 19 ? Long.MAX_VALUE : v;
    }

    private static String digits(Random rnd, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('0' + rnd.nextInt(10)));
        }
        return sb.toString();
    }

    // --- helpers -----------------------------------------------------------------------------

    /** The bounds, changed like the live configuration the spool reads at every append. */
    private static final class Bounds implements Supplier<RoutingSettings> {
        volatile long max;
        final long segment;
        private volatile RoutingSettings settings;

        Bounds(long max, long segment) {
            this.max = max;
            this.segment = segment;
        }

        @Override
        public RoutingSettings get() {
            RoutingSettings s = settings;
            if (s == null || s.spoolMaxBytes() != max) {
                s = TestSupport.spoolSettings(max, segment);
                settings = s;
            }
            return s;
        }
    }

    /** An appended batch and where its record landed: segment file name and byte range. */
    private record Placed(int index, Batch batch, String segment, long start, long end) {
        long length() {
            return end - start;
        }
    }

    /**
     * Appends batches and notes where each record lands, from the segment files' sizes before
     * and after the append (the record goes to the newest segment file).
     */
    private static final class Placements {
        final Path dir;
        final List<Placed> placed = new ArrayList<>();

        Placements(Path dir) {
            this.dir = dir;
        }

        Placed append(Spool spool, Batch batch) throws IOException {
            int index = index(batch);
            assertThat(index).as("batches are placed in the order they were made").isEqualTo(placed.size());
            Map<String, Long> before = new HashMap<>();
            for (Path p : segments(dir)) {
                before.put(p.getFileName().toString(), sizeOf(p));
            }
            spool.append(batch);
            Path newest = lastSegment(dir);
            String name = newest.getFileName().toString();
            long start = before.getOrDefault(name, 0L);
            Placed p = new Placed(index, batch, name, start, Files.size(newest));
            assertThat(p.length()).as("record of batch " + index + " in " + name).isPositive();
            placed.add(p);
            return p;
        }

        Placed get(int index) {
            return placed.get(index);
        }

        /** Offsets in a segment where a record starts or ends, from 0 to its size. */
        List<Long> boundaries(String segment) {
            List<Long> out = new ArrayList<>();
            out.add(0L);
            for (Placed p : placed) {
                if (p.segment().equals(segment)) {
                    out.add(p.end());
                }
            }
            return out;
        }
    }

    /**
     * Random batches: random sizes, types, optional fields, non-ASCII text, arbitrary line bytes.
     * Each source ends in {@code #<n>}, the batch's number in the order made, so a replayed batch
     * names itself.
     */
    private static final class Gen {
        private static final String[] PIECES = { "a", "b", "z", "0", "9", "-", "_", " ", "\"", "\\", "é", "ß",
            "漢", "😀", "\u0000" };
        private static final MessageType[] TYPES = MessageType.values();
        final Random rnd;
        final int maxMessages;
        final int maxLine;
        int made;

        Gen(Random rnd, int maxMessages, int maxLine) {
            this.rnd = rnd;
            this.maxMessages = maxMessages;
            this.maxLine = maxLine;
        }

        Batch batch() {
            int n = rnd.nextInt(30) == 0 ? 0 : 1 + rnd.nextInt(maxMessages);
            return batch(n, maxLine);
        }

        /** One message with a line of about {@code bytes}, so its record is larger than that. */
        Batch huge(int bytes) {
            return batch(1, bytes + 1 + rnd.nextInt(Math.max(1, bytes / 2)), true);
        }

        private Batch batch(int n, int lineBound) {
            return batch(n, lineBound, false);
        }

        private Batch batch(int n, int lineBound, boolean exact) {
            String source = string(false) + "#" + made++;
            List<Message> ms = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                MessageType type = TYPES[rnd.nextInt(TYPES.length)];
                SpanInfo span = type == MessageType.SPAN || rnd.nextInt(20) == 0
                        ? new SpanInfo(string(true), string(true), rnd.nextLong(), rnd.nextLong())
                        : null;
                byte[] line = new byte[exact ? lineBound : rnd.nextInt(lineBound + 1)];
                rnd.nextBytes(line);
                ms.add(new Message(source, rnd.nextLong(), type, string(true), string(true), string(true),
                        string(true), span, line));
            }
            return new Batch(source, ms);
        }

        private String string(boolean nullable) {
            if (nullable && rnd.nextInt(3) == 0) {
                return null;
            }
            StringBuilder sb = new StringBuilder();
            for (int i = rnd.nextInt(12); i > 0; i--) {
                sb.append(PIECES[rnd.nextInt(PIECES.length)]);
            }
            return sb.toString();
        }
    }

    private static int index(Batch b) {
        return Integer.parseInt(b.source().substring(b.source().lastIndexOf('#') + 1));
    }

    /** Replays and consumes up to {@code max} records. */
    private static List<Batch> drain(Spool spool, int max) throws IOException {
        List<Batch> out = new ArrayList<>();
        Spool.Record r;
        while (out.size() < max && (r = spool.peek()) != null) {
            out.add(r.batch());
            spool.advance(r);
            if (out.size() > 100_000) {
                fail("the spool replays without end");
            }
        }
        return out;
    }

    private static void assertEmpty(Spool spool, String where) throws IOException {
        assertThat(spool.peek()).as(where + ": nothing left").isNull();
        assertThat(spool.isEmpty()).as(where).isTrue();
        assertThat(spool.messages()).as(where).isZero();
        assertThat(spool.bytes()).as(where).isZero();
    }

    private static void assertSameBatch(Batch expected, Spool.Record actual, String where) {
        assertThat(actual).as(where + ": a record for batch " + index(expected)).isNotNull();
        assertSameBatches(List.of(expected), List.of(actual.batch()), where);
    }

    /** Same batches in the same order, every field of every message intact. */
    private static void assertSameBatches(List<Batch> expected, List<Batch> actual, String where) {
        List<Integer> want = expected.stream().map(SpoolDamageTest::index).toList();
        List<Integer> got = actual.stream().map(SpoolDamageTest::index).toList();
        assertThat(got).as(where + ": replayed batches").isEqualTo(want);
        for (int i = 0; i < expected.size(); i++) {
            Batch e = expected.get(i);
            Batch a = actual.get(i);
            if (!sameBatch(e, a)) {
                assertThat(describe(a)).as(where + ": batch " + index(e)).isEqualTo(describe(e));
            }
        }
    }

    private static boolean sameBatch(Batch e, Batch a) {
        if (!e.source().equals(a.source()) || e.size() != a.size()) {
            return false;
        }
        for (int i = 0; i < e.size(); i++) {
            Message x = e.messages().get(i);
            Message y = a.messages().get(i);
            if (!x.source().equals(y.source()) || x.timestamp() != y.timestamp() || x.type() != y.type()
                    || !Objects.equals(x.traceId(), y.traceId()) || !Objects.equals(x.spanId(), y.spanId())
                    || !Objects.equals(x.parentSpanId(), y.parentSpanId()) || !Objects.equals(x.level(), y.level())
                    || !Objects.equals(x.span(), y.span()) || !Arrays.equals(x.line(), y.line())) {
                return false;
            }
        }
        return true;
    }

    private static String describe(Batch b) {
        StringBuilder sb = new StringBuilder(b.source()).append(" [");
        for (Message m : b.messages()) {
            sb.append("\n  ").append(m.source()).append(' ').append(m.timestamp()).append(' ').append(m.type())
                    .append(" tid=").append(m.traceId()).append(" sid=").append(m.spanId()).append(" pid=")
                    .append(m.parentSpanId()).append(" level=").append(m.level()).append(" span=").append(m.span())
                    .append(" line=").append(Arrays.toString(m.line()));
        }
        return sb.append(" ]").toString();
    }

    private static long messages(Iterable<Placed> ps) {
        long n = 0;
        for (Placed p : ps) {
            n += p.batch().size();
        }
        return n;
    }

    private static long messages(List<Placed> ps, List<Fate> fate, Fate which) {
        long n = 0;
        for (Placed p : ps) {
            if (fate.get(p.index()) == which) {
                n += p.batch().size();
            }
        }
        return n;
    }

    private static long bytes(Iterable<Placed> ps) {
        long n = 0;
        for (Placed p : ps) {
            n += p.length();
        }
        return n;
    }

    private static List<Batch> batches(Iterable<Placed> ps) {
        List<Batch> out = new ArrayList<>();
        for (Placed p : ps) {
            out.add(p.batch());
        }
        return out;
    }

    private static List<Path> segments(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of(); // the spool creates its directory at the first append
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SpoolFiles.SUFFIX)).sorted().toList();
        }
    }

    private static Path lastSegment(Path dir) throws IOException {
        List<Path> segs = segments(dir);
        assertThat(segs).as("segment files in " + dir).isNotEmpty();
        return segs.get(segs.size() - 1);
    }

    private static long sizeOrZero(Path p) throws IOException {
        return Files.exists(p) ? Files.size(p) : 0;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
