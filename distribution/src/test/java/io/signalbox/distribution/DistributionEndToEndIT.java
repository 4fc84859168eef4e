package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assembled distribution, run as a separate process through {@code bin/signalbox} with its
 * shipped {@code etc/} (only the TCP port changed to a free one): what goes in over TCP is what
 * comes out in {@code data/files}, across a graceful stop.
 */
class DistributionEndToEndIT extends InstallationTest {
    private static final Logger LOG = LoggerFactory.getLogger(DistributionEndToEndIT.class);

    private static final int MESSAGES_PER_CONNECTION = 5_000;
    /** Connection 1 carries alpha and beta, connection 2 beta and gamma: 3 sources over 2 connections. */
    private static final String[][] SOURCES_BY_CONNECTION = {{"alpha", "beta"}, {"beta", "gamma"}};
    private static final long BASE_TS = 1_763_900_000_000L;
    private static final int MAX_LINE_LENGTH = 65_536;

    /** src, connection and per-(src, connection) sequence number of a line this test sent. */
    private static final Pattern KEY = Pattern.compile("\"src\":\"([a-z]+)\".*\"ctx\":\\{\"conn\":\"(\\d)\",\"seq\":\"(\\d+)\"\\}");

    @Test
    void everyValidLineSentBeforeStopIsOnDiskExactlyOnceInOrderAndBadLinesAreDroppedAndLogged() throws Exception {
        signalbox.start();

        List<List<String>> valid = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(SOURCES_BY_CONNECTION.length);
        try {
            List<Future<List<String>>> sent = new ArrayList<>();
            for (int c = 0; c < SOURCES_BY_CONNECTION.length; c++) {
                int connection = c + 1;
                sent.add(clients.submit(() -> sendAndAwaitClose(connection)));
            }
            for (Future<List<String>> f : sent) {
                valid.add(f.get(5, TimeUnit.MINUTES));
            }
        } finally {
            clients.shutdownNow();
        }

        // at once: batches are flushed by age only after 5 s, so only a graceful shutdown gets them all out
        signalbox.stop();
        assertThat(signalbox.command("status").exitCode()).as("status after stop").isEqualTo(3);
        assertThat(signalbox.pidFile()).doesNotExist();

        List<String> written = readAllWrittenLines();
        Set<String> expected = new HashSet<>();
        valid.forEach(expected::addAll);
        assertThat(expected).hasSize(2 * MESSAGES_PER_CONNECTION);

        Set<String> seen = new HashSet<>();
        List<String> duplicates = written.stream().filter(l -> !seen.add(l)).limit(5).toList();
        Set<String> missing = new LinkedHashSet<>(expected);
        missing.removeAll(seen);
        Set<String> unexpected = new LinkedHashSet<>(seen);
        unexpected.removeAll(expected);
        assertThat(duplicates).as("lines written more than once").isEmpty();
        assertThat(sample(unexpected)).as("lines written that were never sent as valid lines (%d of them)",
                unexpected.size()).isEmpty();
        assertThat(sample(missing)).as("valid lines sent but not written (%d of them)", missing.size()).isEmpty();
        assertThat(written).hasSize(2 * MESSAGES_PER_CONNECTION);
        assertPerSourceOrderKept(written);

        String log = signalbox.log();
        assertThat(log.toLowerCase()).as("the log mentions the dropped lines")
                .contains("malformed")
                .containsAnyOf("too_long", "too long");
    }

    @Test
    void metricsOfTheRunningSidecarShowWhatItReceivedPassPromtoolAndTheHttpPortMovesLive() throws Exception {
        signalbox.start();
        int lines = 250;
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < lines; i++) {
                writeLine(out, "{\"v\":1,\"src\":\"metrics-e2e\",\"ts\":" + (BASE_TS + i)
                        + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m" + i + "\"}}");
            }
            writeLine(out, "{not json");
            out.flush();
        }
        String metrics = "http://127.0.0.1:" + signalbox.httpPort() + "/metrics";
        String received = "signalbox_messages_received_total{source=\"metrics-e2e\"} " + lines + ".0";
        // batches are cut by age after 5 s: then the file backend has written them
        String[] body = {""};
        boolean seen = Installation.poll(Duration.ofSeconds(60), Duration.ofMillis(250), () -> {
            body[0] = Installation.get(metrics).ok();
            return body[0].contains(received) && routedToFiles(body[0]) >= lines;
        });
        assertThat(seen).as("/metrics shows %s and %d routed to files; last answer:%n%s", received, lines, body[0])
                .isTrue();
        assertThat(body[0]).contains("signalbox_messages_dropped_total{reason=\"malformed\"} 1.0",
                "# TYPE signalbox_backend_latency_seconds histogram",
                "signalbox_pipeline_latency_seconds_count{backend=\"files\"}", "signalbox_active_connections ",
                "signalbox_buffer_size{source=\"metrics-e2e\"} 0.0", "signalbox_backend_breaker_state{backend=\"files\"} 0.0",
                "signalbox_spool_bytes{backend=\"files\"}", "signalbox_config_reloads_total",
                "signalbox_config_errors_total 0.0", "jvm_memory_used_bytes", "process_cpu_seconds_total");
        promtoolCheck(body[0]);

        // one file moves the HTTP server: the new port answers, the old one stops
        int oldPort = signalbox.httpPort();
        int newPort = Installation.freePort();
        signalbox.configure("etc/io.signalbox.http.cfg", "host=127.0.0.1\nport=" + newPort + "\n");
        String moved = "http://127.0.0.1:" + newPort + "/metrics";
        assertThat(Installation.poll(Duration.ofSeconds(30), Duration.ofMillis(250),
                () -> Installation.get(moved).ok().contains("signalbox_config_reloads_total")))
                .as("/metrics answers on the new port %d", newPort).isTrue();
        assertThat(Installation.get(metrics).ok()).as("nothing answers on the old port %d any more", oldPort).isEmpty();
        assertThat(signalbox.log()).contains("HTTP server listening on http://127.0.0.1:" + newPort + "/");
    }

    private static double routedToFiles(String metrics) {
        Matcher m = Pattern.compile("(?m)^signalbox_messages_routed_total\\{backend=\"files\"\\} (\\S+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** {@code promtool check metrics} on {@code text}, where Debian's prometheus package is installed (.ci/run installs it). */
    private void promtoolCheck(String text) throws IOException, InterruptedException {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!Files.isExecutable(promtool)) {
            LOG.warn("promtool is not installed (apt-get install prometheus): /metrics of the distribution not linted");
            return;
        }
        Path in = Files.writeString(tempDir.resolve("metrics.txt"), text);
        Path out = tempDir.resolve("promtool.txt");
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(in.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        String said = Files.readString(out).trim();
        assertThat(said).as("promtool check metrics").isEmpty();
        assertThat(p.exitValue()).as("promtool exit code").isZero();
    }

    @Test
    void restartAfterStopWorksAndNeitherAStaleNorAForeignPidFileBlocksIt() throws Exception {
        signalbox.start();
        long first = signalbox.pid().orElseThrow();
        assertThat(signalbox.command("status")).satisfies(r -> {
            assertThat(r.exitCode()).isZero();
            assertThat(r.output()).contains("running (pid " + first + ")");
        });

        Installation.Result again = signalbox.command("start");
        assertThat(again.exitCode()).as("a second start while running").isNotZero();
        assertThat(again.output()).contains("already running");
        assertThat(signalbox.pid()).contains(first);

        signalbox.stop();
        assertThat(Installation.isRunning(first)).as("the JVM runs after stop").isFalse();
        assertThat(signalbox.pidFile()).doesNotExist();
        assertThat(signalbox.command("status").exitCode()).isEqualTo(3);

        // a pid file left behind that names a live process which is not Signalbox (this test's JVM)
        Files.writeString(signalbox.pidFile(), ProcessHandle.current().pid() + "\n");
        assertThat(signalbox.command("status").exitCode()).as("status with a foreign pid in the pid file").isEqualTo(3);

        signalbox.start("after stop");
        long second = signalbox.pid().orElseThrow();
        assertThat(second).isNotEqualTo(ProcessHandle.current().pid());
        assertThat(signalbox.command("status").exitCode()).isZero();

        signalbox.stop("again");
        assertThat(signalbox.command("status").exitCode()).isEqualTo(3);
        assertThat(signalbox.command("stop").output()).as("stop when not running").contains("not running");
    }

    @Test
    void stopThatTimesOutSaysSoExitsOneAndDoesNotKill() throws Exception {
        signalbox.start();
        long pid = signalbox.pid().orElseThrow();

        // a frozen JVM cannot act on SIGTERM: stop must give up after the timeout, not kill it
        Installation.signal(pid, "STOP");
        Installation.Result stop;
        try {
            stop = signalbox.command("stop", Map.of("SIGNALBOX_STOP_TIMEOUT", "1"));
        } finally {
            Installation.signal(pid, "CONT");
        }
        assertThat(stop.exitCode()).as("stop that timed out: %s", stop).isEqualTo(1);
        assertThat(stop.output()).contains("did not exit within 1 s", "NOT killed");

        // the SIGTERM was delivered all the same: once thawed, the JVM shuts down gracefully
        assertThat(Installation.poll(Duration.ofSeconds(60), () -> !Installation.isRunning(pid)))
                .as("the JVM exits after SIGCONT").isTrue();
        assertThat(signalbox.command("status").exitCode()).isEqualTo(3);
        assertThat(signalbox.pidFile()).as("status removes a pid file whose process is gone").doesNotExist();
    }

    /**
     * Writes this connection's valid lines mixed with malformed ones (and, on connection 1, one
     * oversize line), half-closes, and waits until the sidecar closes its side: then it has read
     * everything. Returns the valid lines sent.
     */
    private List<String> sendAndAwaitClose(int connection) throws IOException {
        String[] sources = SOURCES_BY_CONNECTION[connection - 1];
        Map<String, Integer> seq = new HashMap<>();
        List<String> valid = new ArrayList<>(MESSAGES_PER_CONNECTION);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), signalbox.port()), 5000);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            for (int i = 0; i < MESSAGES_PER_CONNECTION; i++) {
                if (i > 0 && i % 1000 == 0) {
                    writeLine(out, badLine(i / 1000));
                }
                if (connection == 1 && i == 2500) {
                    writeLine(out, oversizeLine());
                }
                String src = sources[i % sources.length];
                int n = seq.merge(src, 1, Integer::sum);
                String line = validLine(src, connection, n, i);
                valid.add(line);
                writeLine(out, line);
            }
            out.flush();
            Installation.halfCloseAndAwaitClose(socket, Duration.ofSeconds(120), "connection " + connection);
        }
        LOG.info("connection {}: sent {} valid lines for {}", connection, valid.size(), seq);
        return valid;
    }

    private static void writeLine(OutputStream out, String line) throws IOException {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write('\n');
    }

    /** Mostly info events, every 10th a metric, now and then an error event (flushed at once). */
    private static String validLine(String src, int connection, int seq, int i) {
        String ctx = "\"ctx\":{\"conn\":\"" + connection + "\",\"seq\":\"" + seq + "\"}";
        String head = "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (BASE_TS + i) + ",";
        if (i % 10 == 9) {
            return head + "\"type\":\"metric\"," + ctx + ",\"data\":{\"name\":\"e2e.seq\",\"value\":" + seq
                    + ",\"unit\":\"count\"}}";
        }
        String level = i % 997 == 996 ? "error" : "info";
        return head + "\"type\":\"event\"," + ctx + ",\"data\":{\"level\":\"" + level + "\",\"msg\":\"line " + seq
                + " of " + src + " on connection " + connection + "\"}}";
    }

    private static String badLine(int kind) {
        return switch (kind) {
            case 1 -> "this is not JSON";
            case 2 -> "{\"v\":1,\"src\":\"alpha\",\"ts\":" + BASE_TS + ",\"type\":\"event\"}"; // no data
            case 3 -> "{\"v\":1,\"src\":\"alpha\",\"ts\":\"soon\",\"type\":\"event\",\"data\":{}}"; // ts not a number
            case 4 -> "{\"v\":1,\"src\":\"alpha\",\"ts\":" + BASE_TS + ",\"type\":\"nonsense\",\"data\":{}}";
            default -> "{\"v\":1,\"src\":\"alpha\",\"ts\":" + BASE_TS + ",\"type\":\"event\",\"data\":{\"msg\":\"trunc";
        };
    }

    /** Valid JSON, but longer than the default max.line.length. */
    private static String oversizeLine() {
        return "{\"v\":1,\"src\":\"alpha\",\"ts\":" + BASE_TS + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\""
                + "x".repeat(MAX_LINE_LENGTH + 1000) + "\"}}";
    }

    /** The first 5 elements, each cut to 200 characters, for readable assertion messages. */
    private static List<String> sample(Set<String> lines) {
        return lines.stream().limit(5).map(l -> l.length() > 200 ? l.substring(0, 200) + "…" : l).toList();
    }

    /** Every line of every file the file backend wrote (gzipped rotated files too), files in path order. */
    private List<String> readAllWrittenLines() throws IOException {
        List<Path> files = Installation.filesUnder(signalbox.filesRoot());
        LOG.info("file backend output: {}", files.stream().map(f -> signalbox.filesRoot().relativize(f)).toList());
        return Installation.linesUnder(signalbox.filesRoot());
    }

    /** Within each (source, connection) pair the sequence numbers appear in the order they were sent. */
    private static void assertPerSourceOrderKept(List<String> written) {
        Map<String, Integer> last = new HashMap<>();
        List<String> outOfOrder = new ArrayList<>();
        for (String line : written) {
            Matcher m = KEY.matcher(line);
            assertThat(m.find()).as("a line this test sent: %s", line).isTrue();
            String key = m.group(1) + "@" + m.group(2);
            int n = Integer.parseInt(m.group(3));
            Integer before = last.put(key, n);
            if (before != null && n <= before && outOfOrder.size() < 5) {
                outOfOrder.add(key + ": " + n + " after " + before);
            }
        }
        assertThat(outOfOrder).as("per-source order").isEmpty();
        assertThat(last.keySet()).containsExactlyInAnyOrder("alpha@1", "beta@1", "beta@2", "gamma@2");
    }
}
