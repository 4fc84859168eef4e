package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.backend.postgres.internal.PostgresCluster;

/**
 * The assembled distribution with the PostgreSQL backend {@code db} hot-deployed from
 * {@code optional/} beside the shipped file backend {@code files}, the default route sending every
 * source to both, under steady load from several TCP clients: (1) the PostgreSQL server is stopped
 * for 30 s and started again; (2) the sidecar itself is stopped and started with
 * {@code bin/signalbox}; (3) the sidecar is stopped while PostgreSQL is down and started after it
 * is back. Afterwards every message is accounted for, in the files and in
 * {@code monitoring_events}.
 *
 * <p>Every line is unique: its {@code data.msg} is {@code k-<connection>-<sequence>}, where a
 * connection id is {@code sender * 1000 + n} (the sender's n-th connection) and the sequence is
 * the sender's own, continued across its connections.
 */
class BackendOutageIT extends InstallationTest {
    private static final Logger LOG = LoggerFactory.getLogger(BackendOutageIT.class);

    private static final Pattern KEY = Pattern.compile("\"msg\":\"k-(\\d+)-(\\d+)\"");
    private static final long BASE_TS = 1_763_900_000_000L;
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final Duration DELIVERY_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration SEND_TIMEOUT = Duration.ofMinutes(2);

    private PostgresCluster pg;
    private ExecutorService threads;
    private final List<Sender> senders = new ArrayList<>();
    private final List<Future<Void>> running = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        // fsync off: a fast shutdown (pg_ctl -m fast) is clean, so the server loses nothing it committed
        pg = PostgresCluster.create(null, false);
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() throws IOException {
        senders.forEach(Sender::halt);
        threads.shutdownNow();
        signalbox.stopQuietly();
        pg.close();
    }

    /**
     * Proof (1) of issue 5: while PostgreSQL is down for 30 s the file backend keeps receiving
     * (at least half of what is sent meanwhile; a stalled pipeline would give it about one
     * correlation capacity, 10,000 messages = 5 s at this rate), the breaker opens and closes,
     * and afterwards every message is in {@code monitoring_events} and in the files exactly once.
     */
    @Test
    void postgresOutageOf30SecondsLosesNothingAndTheFileBackendKeepsFlowing() throws Exception {
        deployPostgresBackend("breaker.open.ms=2000\n");
        startSidecar();

        LineCounter files = new LineCounter(signalbox.filesRoot());
        long t0 = System.nanoTime();
        List<long[]> samples = new CopyOnWriteArrayList<>(); // {ms since t0, file lines, lines sent}
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            try {
                samples.add(new long[] {millisSince(t0), files.count(), sent()});
            } catch (IOException | RuntimeException e) {
                LOG.warn("sampling the file backend's output failed", e);
            }
        }, 0, 1, TimeUnit.SECONDS);

        // 2 connections x 10 lines every 10 ms = 2,000 lines/s; no reconnecting: a failed connection fails the test
        startSenders("outage", 2, 10, false);
        try {
            awaitSent(20_000);
            assertThat(Installation.poll(Duration.ofSeconds(30), Duration.ofMillis(250), () -> rowsInPostgres() > 0))
                    .as("PostgreSQL receives messages before the outage; log:\n%s", logExcerpt()).isTrue();

            pg.stop();
            long outageStartMs = millisSince(t0);
            long filesAtStop = files.count();
            long sentAtStop = sent();
            LOG.info("PostgreSQL stopped at {} ms: {} lines sent, {} in the files", outageStartMs, sentAtStop, filesAtStop);
            hold(OUTAGE);
            long filesAtRestart = files.count();
            long sentAtRestart = sent();
            long outageEndMs = millisSince(t0);
            pg.start();
            LOG.info("PostgreSQL started again at {} ms: {} lines sent, {} in the files", outageEndMs, sentAtRestart,
                    filesAtRestart);

            awaitSent(sentAtRestart + 20_000);
            haltSenders();
            sampler.shutdownNow();
            logFileRate(samples, outageStartMs, outageEndMs);

            // (a) the file backend's rate held up while PostgreSQL was away
            long sentDuring = sentAtRestart - sentAtStop;
            long filesDuring = filesAtRestart - filesAtStop;
            LOG.info("during the {} s outage: {} lines sent, {} reached the file backend", OUTAGE.toSeconds(), sentDuring,
                    filesDuring);
            assertThat(filesDuring).as("lines the file backend received during the outage (%d were sent meanwhile); log:\n%s",
                    sentDuring, logExcerpt()).isGreaterThanOrEqualTo(sentDuring / 2);
        } finally {
            sampler.shutdownNow();
        }

        // (b) everything reaches PostgreSQL after it is back, and the files, exactly once
        long total = sent();
        boolean complete = Installation.poll(DELIVERY_TIMEOUT, Duration.ofSeconds(1),
                () -> rowsInPostgres() >= total && countQuietly(files) >= total);
        assertThat(complete).as("all %d lines in monitoring_events (%d rows) and the files (%d lines) within %s; log:\n%s",
                total, rowsInPostgres(), countQuietly(files), DELIVERY_TIMEOUT, logExcerpt()).isTrue();
        signalbox.stop();

        List<Conn> connections = connections();
        assertThat(connections).as("one connection per sender, never broken").hasSize(2);
        assertExactlyOnce("monitoring_events", keyCounts(postgresMessages()), connections);
        assertExactlyOnce("files", keyCounts(fileMessages()), connections);

        // (c) the breaker of db opened during the outage and closed after it
        String log = signalbox.log();
        List<String> opened = linesWith(log, "circuit breaker open");
        List<String> closed = linesWith(log, "circuit breaker closed");
        LOG.info("breaker (for the record): {} open lines, {} closed lines; first opened: {}; closed: {}", opened.size(),
                closed.size(), opened.isEmpty() ? "-" : opened.get(0), closed);
        assertThat(opened).as("the log says the breaker opened; log:\n%s", logExcerpt()).anyMatch(l -> l.contains("backend db:"));
        assertThat(closed).as("the log says the breaker closed; log:\n%s", logExcerpt()).anyMatch(l -> l.contains("backend db:"));
        assertThat(log.lastIndexOf("circuit breaker closed")).as("the breaker closed after it opened")
                .isGreaterThan(log.indexOf("circuit breaker open"));
    }

    /**
     * Issue 5, "restarting with bin/signalbox stop + start under load loses nothing": a client
     * stream is read in order, so if nothing accepted is lost, what each connection delivered is a
     * contiguous prefix of what it sent, in the files and in PostgreSQL alike; only the tail written
     * after the sidecar closed the connection may be missing (the SDK's concern).
     */
    @Test
    void stopAndStartUnderLoadLoseNothingAccepted() throws Exception {
        deployPostgresBackend("drain.timeout.seconds=2\n");
        startSidecar();

        // 2 senders x 15 lines every 10 ms = 3,000 lines/s, each reconnecting whenever its connection fails
        startSenders("restart", 2, 15, true);
        awaitSent(15_000);
        long beforeStop = sent();
        signalbox.stop("under load");
        LOG.info("sidecar stopped under load: {} lines sent before the stop, {} when it returned", beforeStop, sent());
        signalbox.start();
        List<Conn> finals = sendThenHalt(15_000);
        List<String> lastLines = lastLines(finals);
        boolean delivered = Installation.poll(DELIVERY_TIMEOUT, Duration.ofSeconds(1), () -> lastLinesArrived(lastLines));
        assertThat(delivered).as("the last lines %s reached PostgreSQL and the files within %s; log:\n%s", lastLines,
                DELIVERY_TIMEOUT, logExcerpt()).isTrue();
        signalbox.stop("after the restart");

        LOG.info("the sidecar on shutdown and restart (for the record):\n{}",
                String.join("\n", linesWith(signalbox.log(), "routing stop", "spool", "not delivered", "drain")));
        List<Conn> connections = connections();
        Map<Long, Integer> inPostgres = keyCounts(postgresMessages());
        Map<Long, Integer> inFiles = keyCounts(fileMessages());
        Map<Integer, Long> prefixPostgres = assertContiguousPrefixes("monitoring_events", inPostgres, connections);
        Map<Integer, Long> prefixFiles = assertContiguousPrefixes("files", inFiles, connections);
        for (Conn c : connections) {
            long written = c.end - c.first;
            LOG.info("connection {}: {} lines written{}, delivered {} to files and {} to PostgreSQL: {} written but not "
                    + "delivered (the in-flight tail)", c.id, written, c.attempted > c.end ? " (+" + (c.attempted - c.end)
                    + " in a failed write)" : "", prefixFiles.get(c.id), prefixPostgres.get(c.id),
                    written - Math.min(prefixFiles.get(c.id), prefixPostgres.get(c.id)));
        }
        assertThat(inFiles.keySet()).as("files and PostgreSQL hold the same messages").isEqualTo(inPostgres.keySet());
        for (Sender s : senders) {
            Conn first = s.connections.get(0);
            assertThat(prefixPostgres.get(first.id)).as("delivered prefix of connection %d (before the stop)", first.id)
                    .isGreaterThan(1_000L);
        }
        assertDeliveredEntirely(finals, prefixPostgres);
    }

    /**
     * Issue 5, a graceful stop while a backend is down: the sidecar is stopped (under load) while
     * PostgreSQL has been down for 10 s, so what it holds for {@code db} stays in (or goes to)
     * {@code data/spool/db/}; PostgreSQL comes back, the sidecar is started again and replays the
     * spool. Per connection, what arrived is a contiguous prefix of what was sent, each line once,
     * the same set in the files and in {@code monitoring_events}; it includes every line written up
     * to two seconds before the stop (read by the sidecar long before it closed the connection)
     * and every line of the connections closed cleanly after the restart.
     */
    @Test
    void aStopWhilePostgresIsDownSpoolsWhatItHoldsAndTheNextStartDeliversIt() throws Exception {
        deployPostgresBackend("breaker.open.ms=2000\ndrain.timeout.seconds=2\n");
        startSidecar();

        // 2 senders x 10 lines every 10 ms = 2,000 lines/s, each reconnecting whenever its connection fails
        startSenders("stopdown", 2, 10, true);
        awaitSent(10_000);
        assertThat(Installation.poll(Duration.ofSeconds(30), Duration.ofMillis(250), () -> rowsInPostgres() > 0))
                .as("PostgreSQL receives messages before the outage; log:\n%s", logExcerpt()).isTrue();

        pg.stop();
        long sentAtOutage = sent();
        hold(Duration.ofSeconds(8));
        // lines written from here on may still be in flight when the sidecar closes the connections
        Map<Integer, Long> readBeforeStop = connections().stream().collect(Collectors.toMap(c -> c.id, c -> c.end));
        hold(Duration.ofSeconds(2));
        long sentAtStop = sent();
        int logBeforeStop = signalbox.log().length();
        signalbox.stop("while PostgreSQL is down");
        LOG.info("PostgreSQL stopped after {} lines sent; sidecar stopped at {} lines sent, {} when the stop returned",
                sentAtOutage, sentAtStop, sent());

        String shutdownLog = signalbox.log().substring(logBeforeStop);
        List<String> spoolLines = linesWith(shutdownLog, "stay in its spool", "went to its spool");
        LOG.info("the sidecar's shutdown with PostgreSQL down (for the record):\n{}",
                String.join("\n", linesWith(shutdownLog, "routing stop", "spool", "not delivered", "drain")));
        assertThat(spoolLines).as("the shutdown log says messages for backend db stayed in or went to its spool; log:\n%s",
                shutdownLog).anyMatch(l -> l.contains("backend db:"));
        List<Path> segments = Installation.filesUnder(signalbox.home().resolve("data/spool/db")).stream()
                .filter(f -> f.getFileName().toString().endsWith(".seg")).toList();
        assertThat(segments).as("spool segment files of backend db after the stop").isNotEmpty();
        long spooledAtStop = firstNumber(shutdownLog, "backend db: (\\d+) messages stay in its spool");
        long queuedAtStop = firstNumber(shutdownLog,
                "backend db: (\\d+) messages still queued at shutdown went to its spool");

        pg.start();
        int logBeforeStart = signalbox.log().length();
        startSidecar(logBeforeStart);
        List<Conn> finals = sendThenHalt(10_000);
        List<String> lastLines = lastLines(finals);
        LineCounter files = new LineCounter(signalbox.filesRoot());
        boolean complete = Installation.poll(DELIVERY_TIMEOUT, Duration.ofSeconds(1),
                () -> lastLinesArrived(lastLines) && rowsInPostgres() >= countQuietly(files));
        assertThat(complete).as("the last lines %s in monitoring_events and the files, and monitoring_events (%d rows) "
                + "holding as many as the files (%d lines) within %s; log:\n%s", lastLines, rowsInPostgres(),
                countQuietly(files), DELIVERY_TIMEOUT, logExcerpt()).isTrue();
        signalbox.stop("after the restart");

        String restartLog = signalbox.log().substring(logBeforeStart);
        long replayed = firstNumber(restartLog,
                "spool of backend db: (\\d+) messages \\(\\d+ bytes\\) in \\d+ segments to replay");
        LOG.info("backend db: {} messages in its spool at the stop ({} of them queued until the shutdown), {} found to "
                + "replay at the start; {} spool segment files after the stop: {}", spooledAtStop, Math.max(0, queuedAtStop),
                replayed, segments.size(), segments.stream().map(f -> f.getFileName().toString()).toList());
        LOG.info("the sidecar's start with a spool (for the record):\n{}",
                String.join("\n", linesWith(restartLog, "spool", "breaker", "replay")));

        List<Conn> connections = connections();
        Map<Long, Integer> inPostgres = keyCounts(postgresMessages());
        Map<Long, Integer> inFiles = keyCounts(fileMessages());
        Map<Integer, Long> prefixPostgres = assertContiguousPrefixes("monitoring_events", inPostgres, connections);
        Map<Integer, Long> prefixFiles = assertContiguousPrefixes("files", inFiles, connections);
        assertThat(inFiles.keySet()).as("files and PostgreSQL hold the same messages").isEqualTo(inPostgres.keySet());
        for (Conn c : connections) {
            Long before = readBeforeStop.get(c.id);
            if (before != null) {
                assertThat(prefixPostgres.get(c.id)).as("connection %d: every line written up to 2 s before the stop "
                        + "(%d lines) is in monitoring_events; log:\n%s", c.id, before - c.first, logExcerpt())
                        .isGreaterThanOrEqualTo(before - c.first);
                LOG.info("connection {}: {} lines written, {} before the stop's last 2 s; {} in the files, {} in "
                        + "monitoring_events", c.id, c.end - c.first, before - c.first, prefixFiles.get(c.id),
                        prefixPostgres.get(c.id));
            }
        }
        assertDeliveredEntirely(finals, prefixPostgres);
    }

    // --- set-up ------------------------------------------------------------------------

    /** optional/ PostgreSQL jar into deploy/, backend db, default route to files and db, fast flushes. */
    private void deployPostgresBackend(String routingConfig) throws IOException {
        Path jar = signalbox.home().resolve("optional/io.signalbox.backend.postgres.jar");
        assertThat(jar).as("the PostgreSQL backend ships in optional/").isRegularFile();
        Files.copy(jar, signalbox.home().resolve("deploy").resolve(jar.getFileName()));
        signalbox.configure("etc/io.signalbox.backend.postgres-db.cfg", "url=" + pg.url() + "\nuser=" + pg.user() + "\n");
        signalbox.configure("etc/io.signalbox.route-default.cfg", "source=\"default\"\nbackends=[\"files\",\"db\"]\n");
        signalbox.configure("etc/io.signalbox.correlation.cfg", "flush.interval.ms=250\n");
        signalbox.configure("etc/io.signalbox.routing.cfg", routingConfig);
    }

    private void startSidecar() throws IOException, InterruptedException {
        startSidecar(0);
    }

    /** Starts the sidecar and waits until the log after {@code logOffset} says the PostgreSQL backend is bound. */
    private void startSidecar(int logOffset) throws IOException, InterruptedException {
        signalbox.start();
        assertThat(Installation.poll(Installation.STARTUP_TIMEOUT,
                () -> signalbox.log().substring(logOffset).contains("backend db bound")))
                .as("the hot-deployed PostgreSQL backend is bound; log:\n%s", logExcerpt()).isTrue();
    }

    // --- senders -----------------------------------------------------------------------

    private void startSenders(String source, int count, int linesPerTick, boolean reconnect) {
        for (int i = 1; i <= count; i++) {
            Sender s = new Sender(i, source, linesPerTick, reconnect);
            senders.add(s);
            running.add(threads.submit(s));
        }
    }

    private long sent() {
        return senders.stream().mapToLong(s -> s.written.get()).sum();
    }

    /** Polls until the senders wrote {@code target} lines in all; a sender that failed fails the test. */
    private void awaitSent(long target) throws Exception {
        boolean reached = Installation.poll(SEND_TIMEOUT, () -> sent() >= target || running.stream().anyMatch(Future::isDone));
        for (Future<Void> f : running) {
            if (f.isDone()) {
                f.get(); // throws what the sender threw
            }
        }
        assertThat(reached).as("%d lines sent within %s (got %d); log:\n%s", target, SEND_TIMEOUT, sent(), logExcerpt())
                .isTrue();
    }

    private void haltSenders() throws Exception {
        senders.forEach(Sender::halt);
        for (Future<Void> f : running) {
            f.get(SEND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
        LOG.info("senders halted: {} lines written over connections {}", sent(),
                connections().stream().map(c -> c.id + "[" + c.first + ".." + c.end + ")").toList());
    }

    /**
     * Lets the senders write {@code lines} more, then halts them. The last connection of each
     * sender was closed by the client after its last line and then by the sidecar, which had read
     * everything: all of it was accepted and must arrive. Returns those last connections.
     */
    private List<Conn> sendThenHalt(long lines) throws Exception {
        awaitSent(sent() + lines);
        haltSenders();
        List<Conn> finals = senders.stream().map(s -> s.connections.get(s.connections.size() - 1)).toList();
        assertThat(finals).as("each sender's last connection ended with a clean close").allMatch(c -> c.closedCleanly);
        assertThat(senders).as("each sender reconnected after the restart").allMatch(s -> s.connections.size() >= 2);
        return finals;
    }

    /** The {@code data.msg} of the last line of each connection. */
    private static List<String> lastLines(List<Conn> connections) {
        return connections.stream().map(c -> "k-" + c.id + "-" + (c.end - 1)).toList();
    }

    private List<Conn> connections() {
        return senders.stream().flatMap(s -> s.connections.stream()).toList();
    }

    /** One connection of a sender: it wrote sequence numbers {@code first} (inclusive) to {@code end}. */
    static final class Conn {
        final int id;
        final long first;
        /** End (exclusive) of the lines written completely. */
        volatile long end;
        /** End (exclusive) of the lines handed to a write, including one that failed. */
        volatile long attempted;
        volatile boolean closedCleanly;

        Conn(int id, long first) {
            this.id = id;
            this.first = first;
            this.end = first;
            this.attempted = first;
        }
    }

    /**
     * A client writing {@code linesPerTick} lines every 10 ms over one connection at a time; on
     * {@link #halt()} it half-closes and waits for the sidecar to close its side (then everything
     * was read). With {@code reconnect} a failed connection is replaced by a new one (new id, the
     * sequence continues after every line that may have gone out); without, the failure is thrown.
     */
    private final class Sender implements Callable<Void> {
        final int id;
        final String source;
        final int linesPerTick;
        final boolean reconnect;
        final List<Conn> connections = new CopyOnWriteArrayList<>();
        final AtomicLong written = new AtomicLong();
        volatile boolean halted;

        Sender(int id, String source, int linesPerTick, boolean reconnect) {
            this.id = id;
            this.source = source;
            this.linesPerTick = linesPerTick;
            this.reconnect = reconnect;
        }

        void halt() {
            halted = true;
        }

        @Override
        public Void call() throws IOException {
            long seq = 0;
            int attempts = 0;
            long next = System.nanoTime();
            while (!halted) {
                Socket socket = new Socket();
                try {
                    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), signalbox.port()), 1000);
                } catch (IOException refused) {
                    socket.close();
                    if (!reconnect) {
                        throw refused;
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // the sidecar is down: try again soon
                    continue;
                }
                Conn c = new Conn(id * 1000 + ++attempts, seq);
                connections.add(c);
                try (socket) {
                    OutputStream out = socket.getOutputStream();
                    StringBuilder b = new StringBuilder(linesPerTick * 160);
                    while (!halted) {
                        b.setLength(0);
                        for (int i = 0; i < linesPerTick; i++) {
                            long s = seq + i;
                            b.append("{\"v\":1,\"src\":\"").append(source).append("\",\"ts\":").append(BASE_TS + s)
                                    .append(",\"type\":\"event\",\"ctx\":{\"conn\":\"").append(c.id).append("\",\"seq\":\"")
                                    .append(s).append("\"},\"data\":{\"level\":\"info\",\"msg\":\"k-").append(c.id)
                                    .append('-').append(s).append("\"}}\n");
                        }
                        c.attempted = seq + linesPerTick;
                        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                        seq += linesPerTick;
                        c.end = seq;
                        written.addAndGet(linesPerTick);
                        next += TICK_NANOS;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        } else if (wait < -TimeUnit.SECONDS.toNanos(1)) {
                            next = System.nanoTime(); // held up (back-pressure): go on at the rate, no burst
                        }
                    }
                    Installation.halfCloseAndAwaitClose(socket, Duration.ofSeconds(60), "connection " + c.id);
                    c.closedCleanly = true;
                } catch (IOException e) {
                    if (!reconnect) {
                        throw e;
                    }
                    LOG.info("sender {}: connection {} failed after {} lines ({}); reconnecting", id, c.id, c.end - c.first,
                            e.toString());
                    seq = c.attempted;
                }
            }
            return null;
        }
    }

    // --- what arrived ------------------------------------------------------------------

    /** Counts the complete lines under a folder incrementally (each call reads only what was appended). */
    private static final class LineCounter {
        private final Path root;
        private final Map<Path, Long> offsets = new HashMap<>();
        private final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
        private long lines;

        LineCounter(Path root) {
            this.root = root;
        }

        synchronized long count() throws IOException {
            for (Path f : Installation.filesUnder(root)) {
                long offset = offsets.getOrDefault(f, 0L);
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    ch.position(offset);
                    int n;
                    while ((n = ch.read(buffer.clear())) > 0) {
                        for (int i = 0; i < n; i++) {
                            if (buffer.get(i) == '\n') {
                                lines++;
                            }
                        }
                        offset += n;
                    }
                }
                offsets.put(f, offset);
            }
            return lines;
        }
    }

    private static long countQuietly(LineCounter counter) {
        try {
            return counter.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rows in monitoring_events, or -1 while the table does not exist yet or the server is down. */
    private long rowsInPostgres() {
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM monitoring_events")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException notYet) {
            LOG.debug("counting monitoring_events: {}", notYet.toString());
            return -1;
        }
    }

    private long lastLinesInPostgres(List<String> msgs) {
        try (Connection c = pg.connect("signalbox");
                PreparedStatement s = c.prepareStatement("SELECT count(*) FROM monitoring_events WHERE data->>'msg' = ANY (?)")) {
            s.setArray(1, c.createArrayOf("text", msgs.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException notYet) {
            LOG.debug("looking for {} in monitoring_events: {}", msgs, notYet.toString());
            return -1;
        }
    }

    /** Whether every one of {@code msgs} is in monitoring_events and in the files. */
    private boolean lastLinesArrived(List<String> msgs) {
        return lastLinesInPostgres(msgs) == msgs.size() && lastLinesInFiles(msgs) == msgs.size();
    }

    private long lastLinesInFiles(List<String> msgs) {
        try {
            Map<Long, Integer> counts = keyCounts(fileMessages());
            return msgs.stream().filter(m -> counts.containsKey(key(m))).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** data.msg of every row of monitoring_events. */
    private List<String> postgresMessages() throws SQLException {
        List<String> msgs = new ArrayList<>();
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT data->>'msg' FROM monitoring_events")) {
            while (rs.next()) {
                msgs.add(rs.getString(1));
            }
        }
        return msgs;
    }

    /** The {@code k-<conn>-<seq>} of every line the file backend wrote, files in path order. */
    private List<String> fileMessages() throws IOException {
        List<String> msgs = new ArrayList<>();
        Installation.forEachLine(signalbox.filesRoot(), line -> {
            Matcher m = KEY.matcher(line);
            msgs.add(m.find() ? "k-" + m.group(1) + "-" + m.group(2) : line);
        });
        return msgs;
    }

    /** (connection, sequence) as one long; -1 for anything this test did not send. */
    private static long key(String msg) {
        if (msg == null || !msg.startsWith("k-")) {
            return -1;
        }
        int dash = msg.indexOf('-', 2);
        try {
            return ((long) Integer.parseInt(msg.substring(2, dash)) << 32) | Long.parseLong(msg.substring(dash + 1));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static Map<Long, Integer> keyCounts(List<String> msgs) {
        Map<Long, Integer> counts = new HashMap<>();
        for (String m : msgs) {
            counts.merge(key(m), 1, Integer::sum);
        }
        return counts;
    }

    // --- assertions --------------------------------------------------------------------

    /** Every line every connection wrote is in {@code counts} exactly once, and nothing else is. */
    private void assertExactlyOnce(String where, Map<Long, Integer> counts, List<Conn> connections) {
        List<String> missing = new ArrayList<>();
        long missingCount = 0;
        long expected = 0;
        for (Conn c : connections) {
            for (long s = c.first; s < c.end; s++) {
                expected++;
                if (!counts.containsKey(((long) c.id << 32) | s)) {
                    missingCount++;
                    if (missing.size() < 5) {
                        missing.add("k-" + c.id + "-" + s);
                    }
                }
            }
        }
        List<String> duplicates = duplicates(counts);
        List<String> unexpected = unexpected(counts, connections);
        LOG.info("{}: {} distinct messages of {} sent, {} missing, {} delivered more than once, {} unexpected", where,
                counts.size(), expected, missingCount, duplicates.size(), unexpected.size());
        if (!duplicates.isEmpty()) {
            LOG.warn("{}: {} messages delivered more than once, e.g. {}", where, duplicates.size(),
                    duplicates.subList(0, Math.min(10, duplicates.size())));
        }
        assertThat(duplicates).as("%s: messages delivered more than once", where).isEmpty();
        assertThat(unexpected).as("%s: messages this test did not send", where).isEmpty();
        assertThat(missing).as("%s: %d messages missing (the first ones); log:\n%s", where, missingCount, logExcerpt())
                .isEmpty();
    }

    /**
     * Per connection, what {@code counts} holds is a contiguous prefix of what it sent, each once.
     * Returns the prefix length per connection id.
     */
    private Map<Integer, Long> assertContiguousPrefixes(String where, Map<Long, Integer> counts, List<Conn> connections) {
        Map<Integer, Long> prefixes = new TreeMap<>();
        List<String> holes = new ArrayList<>();
        for (Conn c : connections) {
            long delivered = 0;
            long last = -1;
            for (long s = c.first; s < c.attempted; s++) {
                if (counts.containsKey(((long) c.id << 32) | s)) {
                    delivered++;
                    last = s;
                }
            }
            long prefix = last < 0 ? 0 : last - c.first + 1;
            if (prefix != delivered) {
                List<Long> firstMissing = new ArrayList<>();
                for (long s = c.first; s <= last && firstMissing.size() < 5; s++) {
                    if (!counts.containsKey(((long) c.id << 32) | s)) {
                        firstMissing.add(s);
                    }
                }
                holes.add("connection " + c.id + ": " + delivered + " delivered up to " + last + " (first " + c.first
                        + "), " + (prefix - delivered) + " missing, first ones " + firstMissing);
            }
            prefixes.put(c.id, delivered);
        }
        List<String> duplicates = duplicates(counts);
        List<String> unexpected = unexpected(counts, connections);
        LOG.info("{}: {} distinct messages, prefix per connection {}, {} holes, {} delivered more than once, {} unexpected",
                where, counts.size(), prefixes, holes.size(), duplicates.size(), unexpected.size());
        if (!duplicates.isEmpty()) {
            LOG.warn("{}: {} messages delivered more than once, e.g. {}", where, duplicates.size(),
                    duplicates.subList(0, Math.min(10, duplicates.size())));
        }
        assertThat(duplicates).as("%s: messages delivered more than once", where).isEmpty();
        assertThat(unexpected).as("%s: messages this test did not send", where).isEmpty();
        assertThat(holes).as("%s: connections whose delivered lines are not a contiguous prefix; log:\n%s", where,
                logExcerpt()).isEmpty();
        return prefixes;
    }

    /** Every connection in {@code connections} (closed cleanly) delivered all it wrote to monitoring_events. */
    private static void assertDeliveredEntirely(List<Conn> connections, Map<Integer, Long> prefixPostgres) {
        for (Conn c : connections) {
            assertThat(prefixPostgres.get(c.id)).as("connection %d, closed cleanly, delivered entirely", c.id)
                    .isEqualTo(c.end - c.first);
        }
    }

    private static List<String> duplicates(Map<Long, Integer> counts) {
        return counts.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(e -> "k-" + (e.getKey() >>> 32) + "-" + (e.getKey() & 0xFFFF_FFFFL) + " x" + e.getValue())
                .sorted().toList();
    }

    private static List<String> unexpected(Map<Long, Integer> counts, List<Conn> connections) {
        Map<Integer, Conn> byId = connections.stream().collect(Collectors.toMap(c -> c.id, c -> c));
        List<String> unexpected = new ArrayList<>();
        for (long k : counts.keySet()) {
            Conn c = k < 0 ? null : byId.get((int) (k >>> 32));
            long s = k & 0xFFFF_FFFFL;
            if (c == null || s < c.first || s >= c.attempted) {
                unexpected.add(k < 0 ? "a line without a key" : "k-" + (k >>> 32) + "-" + s);
            }
        }
        return unexpected;
    }

    // --- helpers -----------------------------------------------------------------------

    /** Lets {@code duration} pass: the length of an outage, not a wait for something to happen. */
    private static void hold(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        for (long left = duration.toNanos(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    private static long millisSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    /** Logs the file backend's lines per second (outage seconds marked *), for the record only. */
    private static void logFileRate(List<long[]> samples, long outageStartMs, long outageEndMs) {
        StringBuilder rates = new StringBuilder();
        for (int i = 1; i < samples.size(); i++) {
            long[] a = samples.get(i - 1);
            long[] b = samples.get(i);
            boolean outage = b[0] > outageStartMs && a[0] < outageEndMs;
            rates.append(i == 1 ? "" : " ").append(b[0] / 1000).append("s:").append(b[1] - a[1]).append(outage ? "*" : "");
        }
        LOG.info("file backend lines per second (sent ~2000/s; * = PostgreSQL down): {}", rates);
    }

    /** The first number captured by {@code regex} in {@code text}, or -1 if it does not occur. */
    private static long firstNumber(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The lines of {@code text} that contain any of {@code what}. */
    private static List<String> linesWith(String text, String... what) {
        return text.lines().filter(l -> Arrays.stream(what).anyMatch(l::contains)).toList();
    }

    /** Log lines about errors, warnings, the breaker, spools and backends (for failure messages). */
    private String logExcerpt() {
        return Installation.excerpt(signalbox.log(), "breaker", "spool", "backend ", "routing");
    }
}
