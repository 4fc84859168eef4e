package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assembled distribution and its disk spool across the worst an operator's machine does to
 * it: the sidecar JVM killed with {@code kill -9} while data waits in a backend's spool, and a
 * spool directory full of garbage before the first start.
 */
class CrashRecoveryIT extends InstallationTest {
    private static final Logger LOG = LoggerFactory.getLogger(CrashRecoveryIT.class);

    private static final int PHASE_A = 20_000;
    /** Phase B: 20 lines every 10 ms = 2,000 a second; the JVM is killed once this many were sent. */
    private static final int PHASE_B_LINES_PER_TICK = 20;
    private static final int PHASE_B_BEFORE_KILL = 4_000;
    private static final int PHASE_B_MAX = 1_000_000;
    private static final int GARBAGE_RUN_LINES = 1_000;
    private static final int SECOND_RUN_LINES = 100;
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration SPOOL_STABLE = Duration.ofSeconds(2);
    private static final long BASE_TS = 1_763_900_000_000L;
    /** Fixed, so that a failure can be reproduced with the same garbage. */
    private static final long SEED = 0x5167_6e61_6c62_6f78L;

    /** The phase/run letter and sequence number in the msg of a line this test sent. */
    private static final Pattern KEY = Pattern.compile("\"msg\":\"crash-([A-Z])-(\\d+)\"");

    private static final String CORRELATION_CFG = "etc/io.signalbox.correlation.cfg";
    private static final String DEFAULT_ROUTE_CFG = "etc/io.signalbox.route-default.cfg";
    private static final String ARCHIVE_CFG = "etc/io.signalbox.backend.file-archive.cfg";

    @BeforeEach
    void flushQuickly() throws IOException {
        // small batches leave correlation quickly: what was accepted is in routing's hands soon
        signalbox.configure(CORRELATION_CFG, "flush.interval.ms=250\n");
    }

    @Test
    void killMinus9LosesNothingThatWasInTheSpool() throws Exception {
        Path files = signalbox.filesRoot();
        Path spool = signalbox.home().resolve("data/spool/archive");
        Path archive = signalbox.home().resolve("data/archive");
        // "archive" has no configuration yet: its batches wait in data/spool/archive/
        signalbox.configure(DEFAULT_ROUTE_CFG, "source=\"default\"\nbackends=[\"files\",\"archive\"]\n");

        signalbox.start();
        long pid = signalbox.pid().orElseThrow(() -> new IllegalStateException("no pid file after start"));

        // phase A: everything reaches "files", and "archive"'s copy is in its spool
        sendAll("A", PHASE_A);
        assertThat(Installation.poll(DELIVERY_TIMEOUT, () -> lineCount(files) >= PHASE_A))
                .as("phase A reached the files backend (%d of %d lines); log:\n%s", lineCount(files), PHASE_A,
                        logExcerpt(signalbox.log()))
                .isTrue();
        assertThat(awaitStableSize(spool, SPOOL_STABLE, DELIVERY_TIMEOUT))
                .as("the archive spool %s holds data and stopped growing (%d bytes)", spool, sizeOf(spool)).isTrue();
        LOG.info("phase A: {} lines in files, archive spool {} bytes in {}", lineCount(files), sizeOf(spool),
                Installation.filesUnder(spool));
        assertThat(Installation.filesUnder(archive)).as("the archive backend does not exist yet").isEmpty();

        // phase B: kill -9 while lines stream in
        AtomicInteger sentB = new AtomicInteger();
        AtomicBoolean stopB = new AtomicBoolean();
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<?> sender = client.submit(() -> {
                streamUntilBroken("B", sentB, stopB);
                return null;
            });
            assertThat(Installation.poll(Duration.ofSeconds(60), () -> sentB.get() >= PHASE_B_BEFORE_KILL || sender.isDone()))
                    .as("phase B sent %d lines", PHASE_B_BEFORE_KILL).isTrue();
            assertThat(sender.isDone()).as("the phase B sender still runs when the JVM is killed").isFalse();
            Installation.signal(pid, "KILL");
            LOG.info("kill -9 {} after {} phase B lines", pid, sentB.get());
            assertThat(Installation.poll(Duration.ofSeconds(30), () -> !Installation.isRunning(pid)))
                    .as("pid %d gone after kill -9", pid).isTrue();
            stopB.set(true);
            sender.get(30, TimeUnit.SECONDS);
        } finally {
            client.shutdownNow();
        }
        int phaseBSent = sentB.get();
        LOG.info("phase B: {} lines written to the socket before it broke; spool after the kill: {} bytes in {}",
                phaseBSent, sizeOf(spool), Installation.filesUnder(spool));

        // the archive backend arrives with the restart: the spool is replayed into it
        signalbox.configure(ARCHIVE_CFG, "path=data/archive\n");
        int logOffset = signalbox.log().length();
        signalbox.start("after kill -9");
        boolean replayed = Installation.poll(DELIVERY_TIMEOUT, () -> count(archive, "A").distinct() >= PHASE_A);
        String restartLog = signalbox.log().substring(logOffset);
        assertThat(replayed).as("every phase A line replayed into the archive backend (%d of %d); log since restart:\n%s",
                count(archive, "A").distinct(), PHASE_A, logExcerpt(restartLog)).isTrue();
        signalbox.stop("after the replay");
        restartLog = signalbox.log().substring(logOffset);

        Counts archiveA = count(archive, "A");
        Counts filesA = count(files, "A");
        assertThat(archiveA.missing(PHASE_A)).as("phase A lines missing in archive (first ones)").isEmpty();
        assertThat(archiveA.duplicated()).as("phase A lines more than once in archive (first ones)").isEmpty();
        assertThat(archiveA.outOfRange(PHASE_A)).as("unknown phase A lines in archive").isEmpty();
        assertThat(filesA.missing(PHASE_A)).as("phase A lines missing in files (first ones)").isEmpty();
        assertThat(filesA.duplicated()).as("phase A lines more than once in files (first ones)").isEmpty();

        Counts archiveB = count(archive, "B");
        Counts filesB = count(files, "B");
        LOG.info("phase B ({} lines sent, in flight at the kill): {} distinct reached files, {} reached archive",
                phaseBSent, filesB.distinct(), archiveB.distinct());
        assertThat(filesB.moreThan(2)).as("phase B lines more than twice in files").isEmpty();
        assertThat(archiveB.moreThan(2)).as("phase B lines more than twice in archive").isEmpty();
        // the write that broke may have passed part of its chunk to the kernel before it failed
        int phaseBMaybeSent = phaseBSent + PHASE_B_LINES_PER_TICK;
        assertThat(filesB.outOfRange(phaseBMaybeSent)).as("phase B lines in files that were never sent").isEmpty();
        assertThat(archiveB.outOfRange(phaseBMaybeSent)).as("phase B lines in archive that were never sent").isEmpty();

        List<String> spoolReplay = restartLog.lines()
                .filter(l -> contains(l, "archive") && contains(l, "spool") && contains(l, "replay"))
                .toList();
        LOG.info("restart log lines about the archive spool:\n{}", String.join("\n", spoolReplay));
        assertThat(spoolReplay).as("the restart log reports the archive spool's replay; log since restart:\n%s",
                logExcerpt(restartLog)).isNotEmpty();
    }

    @Test
    void garbageInTheSpoolDirectoryNeverStopsTheSidecar() throws Exception {
        Path spool = signalbox.home().resolve("data/spool");
        Path filesSpool = spool.resolve("files");
        Path oddDir = spool.resolve("x y%z");
        Files.createDirectories(filesSpool);
        Files.createDirectories(oddDir);
        SplittableRandom random = new SplittableRandom(SEED);
        Files.write(filesSpool.resolve("00000000000000000001.seg"), randomBytes(random, 64 * 1024));
        ByteBuffer plausible = ByteBuffer.wrap(randomBytes(random, 64 * 1024));
        plausible.putInt(0, 100); // length 100; the CRC that follows is whatever the random bytes say
        Files.write(filesSpool.resolve("00000000000000000002.seg"), plausible.array());
        Files.write(filesSpool.resolve("00000000000000000003.seg"), new byte[0]);
        Files.write(filesSpool.resolve("cursor"), randomBytes(random, 7));
        Files.writeString(filesSpool.resolve("notes.txt"), "an operator's notes, not a spool file\n",
                StandardCharsets.UTF_8);
        Files.write(spool.resolve("garbage.bin"), randomBytes(random, 4 * 1024));
        Files.write(oddDir.resolve("00000000000000000001.seg"), randomBytes(random, 16 * 1024));
        LOG.info("spool before the first start: {}", Installation.filesUnder(spool));

        Path files = signalbox.filesRoot();
        signalbox.start("on a garbage spool");
        sendAll("G", GARBAGE_RUN_LINES);
        assertThat(Installation.poll(DELIVERY_TIMEOUT, () -> count(files, "G").distinct() >= GARBAGE_RUN_LINES))
                .as("%d new lines reached the files backend (got %d); log:\n%s", GARBAGE_RUN_LINES,
                        count(files, "G").distinct(), logExcerpt(signalbox.log()))
                .isTrue();
        signalbox.stop("after the garbage run");

        Counts first = count(files, "G");
        assertThat(first.missing(GARBAGE_RUN_LINES)).as("lines missing in files (first ones)").isEmpty();
        assertThat(first.duplicated()).as("lines more than once in files (first ones)").isEmpty();
        assertThat(first.outOfRange(GARBAGE_RUN_LINES)).as("unknown lines in files").isEmpty();
        assertThat(lineCount(files)).as("lines in files: the garbage replayed nothing").isEqualTo(GARBAGE_RUN_LINES);

        // every damaged or foreign file is named in the log of the first run, with what was done
        // about it (asserted at the end, so that a missing report does not hide a crash loop)
        String log = signalbox.log();
        String spoolLines = log.lines().filter(l -> contains(l, "spool")).collect(Collectors.joining("\n"));
        LOG.info("first run, log lines about the spool:\n{}", spoolLines);
        Map<String, String> reports = new LinkedHashMap<>();
        reports.put("00000000000000000001.seg (random bytes)", "files/00000000000000000001.seg");
        reports.put("00000000000000000002.seg (plausible header, bad CRC)", "files/00000000000000000002.seg");
        reports.put("cursor (7 random bytes)", "files/cursor");
        reports.put("notes.txt (not a spool file)", "notes.txt");
        reports.put("garbage.bin (a file where backend directories are)", "garbage.bin");
        // a directory whose name no backend's spool would have: reported as a whole or file by file
        reports.put("x y%z/ (not a spool directory name; a random segment inside)", "x y%z");
        List<String> unreported = new ArrayList<>();
        for (Map.Entry<String, String> r : reports.entrySet()) {
            if (log.lines().noneMatch(l -> l.contains(r.getValue()) && reportsDamage(l))) {
                unreported.add(r.getKey());
            }
        }

        // no crash loop on its own files: a second start comes up and works
        int logOffset = log.length();
        LOG.info("spool before the second start: {}", Installation.filesUnder(spool));
        signalbox.start("(the second)");
        sendAll("H", SECOND_RUN_LINES);
        assertThat(Installation.poll(DELIVERY_TIMEOUT, () -> count(files, "H").distinct() >= SECOND_RUN_LINES))
                .as("%d lines of the second run reached the files backend (got %d); log since the second start:\n%s",
                        SECOND_RUN_LINES, count(files, "H").distinct(), logExcerpt(signalbox.log().substring(logOffset)))
                .isTrue();
        signalbox.stop("(the second)");
        Counts second = count(files, "H");
        assertThat(second.duplicated()).as("second-run lines more than once in files").isEmpty();
        assertThat(count(files, "G").duplicated()).as("first-run lines delivered again by the second run").isEmpty();
        assertThat(count(files, "G").distinct()).as("first-run lines after the second run").isEqualTo(GARBAGE_RUN_LINES);
        assertThat(lineCount(files)).as("lines in files after both runs").isEqualTo(GARBAGE_RUN_LINES + SECOND_RUN_LINES);

        assertThat(unreported).as("spool files the first run's log does not report as truncated, corrupt or ignored; "
                + "its lines about the spool:\n%s", spoolLines).isEmpty();
    }

    // --- sending -------------------------------------------------------------------------

    private static String line(String phase, int seq) {
        return "{\"v\":1,\"src\":\"crash\",\"ts\":" + (BASE_TS + seq)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"crash-" + phase + "-" + seq + "\"}}\n";
    }

    /** Sends {@code n} lines over one connection as fast as it takes them, then waits for the sidecar to close. */
    private void sendAll(String phase, int n) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = socket.getOutputStream();
            StringBuilder b = new StringBuilder(500 * 130);
            for (int seq = 0; seq < n; seq++) {
                b.append(line(phase, seq));
                if (b.length() > 60_000 || seq == n - 1) {
                    out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                    b.setLength(0);
                }
            }
            out.flush();
            Installation.halfCloseAndAwaitClose(socket, Duration.ofMinutes(2), "phase " + phase);
        }
        LOG.info("phase {}: {} lines sent", phase, n);
    }

    /**
     * {@value #PHASE_B_LINES_PER_TICK} lines every 10 ms until the connection breaks or
     * {@code stop} is set; {@code sent} counts the lines whose write returned.
     */
    private void streamUntilBroken(String phase, AtomicInteger sent, AtomicBoolean stop) {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = socket.getOutputStream();
            long next = System.nanoTime();
            int seq = 0;
            while (!stop.get() && seq < PHASE_B_MAX) {
                StringBuilder b = new StringBuilder(PHASE_B_LINES_PER_TICK * 130);
                for (int i = 0; i < PHASE_B_LINES_PER_TICK; i++, seq++) {
                    b.append(line(phase, seq));
                }
                out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
                sent.set(seq);
                next += TimeUnit.MILLISECONDS.toNanos(10);
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
        } catch (IOException expected) {
            LOG.info("phase {} connection broke after {} lines, as expected after kill -9: {}", phase, sent.get(),
                    expected.toString());
        }
    }

    // --- reading what the backends wrote -------------------------------------------------

    /** How often each sequence number of one phase occurs in every file under a backend's root. */
    private record Counts(Map<Integer, Integer> bySeq) {
        int distinct() {
            return bySeq.size();
        }

        List<Integer> missing(int n) {
            List<Integer> out = new ArrayList<>();
            for (int seq = 0; seq < n && out.size() < 10; seq++) {
                if (!bySeq.containsKey(seq)) {
                    out.add(seq);
                }
            }
            return out;
        }

        List<String> duplicated() {
            return moreThan(1);
        }

        List<String> moreThan(int times) {
            return bySeq.entrySet().stream().filter(e -> e.getValue() > times).sorted(Map.Entry.comparingByKey())
                    .limit(10).map(e -> e.getKey() + " ×" + e.getValue()).toList();
        }

        List<Integer> outOfRange(int n) {
            return bySeq.keySet().stream().filter(seq -> seq >= n).sorted().limit(10).toList();
        }
    }

    private static Counts count(Path root, String phase) {
        Map<Integer, Integer> bySeq = new HashMap<>();
        try {
            Installation.forEachLine(root, l -> {
                Matcher m = KEY.matcher(l);
                if (m.find() && m.group(1).equals(phase)) {
                    bySeq.merge(Integer.parseInt(m.group(2)), 1, Integer::sum);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Counts(bySeq);
    }

    /** Newlines in every (uncompressed) file under {@code root}: cheap enough to poll. */
    private static long lineCount(Path root) {
        long n = 0;
        try {
            for (Path f : Installation.filesUnder(root)) {
                for (byte b : Files.readAllBytes(f)) {
                    if (b == '\n') {
                        n++;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    private static long sizeOf(Path root) {
        long n = 0;
        try {
            for (Path f : Installation.filesUnder(root)) {
                n += Files.size(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    /** Waits until the files under {@code root} hold data and their total size has not changed for {@code stable}. */
    private static boolean awaitStableSize(Path root, Duration stable, Duration timeout) {
        long[] last = {-1, System.nanoTime()};
        return Installation.poll(timeout, () -> {
            long size = sizeOf(root);
            long now = System.nanoTime();
            if (size != last[0]) {
                last[0] = size;
                last[1] = now;
                return false;
            }
            return size > 0 && now - last[1] >= stable.toNanos();
        });
    }

    // --- the log ---------------------------------------------------------------------------

    private static boolean contains(String line, String word) {
        return line.toLowerCase(Locale.ROOT).contains(word);
    }

    private static boolean reportsDamage(String line) {
        String l = line.toLowerCase(Locale.ROOT);
        return l.contains("truncat") || l.contains("corrupt") || l.contains("damaged") || l.contains("ignor")
                || l.contains("invalid") || l.contains("not a segment") || l.contains("unknown") || l.contains("skipp");
    }

    /** Warnings, errors and spool/backend/routing lines, for failure messages. */
    private static String logExcerpt(String log) {
        return Installation.excerpt(log, "spool", "backend ", "routing", "----", "exception");
    }

    private static byte[] randomBytes(SplittableRandom random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
