package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watching the sidecar from a shell, on the assembled distribution run as a separate process:
 * {@code bin/signalbox trace | routes | tail | status} against its HTTP API (on a free port), with
 * what was sent over TCP by several "processes".
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchIT {
    private static final Logger LOG = LoggerFactory.getLogger(WatchIT.class);
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** 2026-11-23T14:00:00Z. */
    private static final long T0 = 1_795_442_400_000L;
    /** The CLI prints in the machine's zone and with the locale's charset: pin both. */
    private static final Map<String, String> CLI_ENV = Map.of("TZ", "UTC", "LANG", "C.UTF-8", "LC_ALL", "C.UTF-8");

    /** One installation for every test of the class (started once): a class-wide temp dir. */
    private Path tempDir;

    private Installation signalbox;
    private int httpPort;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        tempDir = dir;
        signalbox = Installation.copyInto(tempDir); // free TCP and HTTP ports in etc/
        httpPort = signalbox.httpPort();

        assertThat(signalbox.command("start").exitCode()).as("bin/signalbox start").isZero();
        signalbox.awaitListening();
        assertThat(Installation.poll(Installation.STARTUP_TIMEOUT, () -> httpStatus("/health") > 0))
                .as("HTTP API on 127.0.0.1:%d; log:%n%s", httpPort, signalbox.log()).isTrue();
    }

    @AfterAll
    void stop() {
        if (signalbox != null) {
            signalbox.stopQuietly();
        }
    }

    @Test
    void traceDrawsAJobThatCrossedThreeProcessesAsOneTree() throws Exception {
        String job = "job-" + UUID.randomUUID().toString().substring(0, 8);
        // three processes, each its own connection, as the SDKs would send them
        send("file-receiver",
                span("file-receiver", job, "r", null, "receive", T0 + 1_000, T0 + 3_300),
                event("file-receiver", job, "r", T0 + 1_100, "info", "got orders.csv"));
        send("queue-service", span("queue-service", job, "q", "r", "enqueue", T0 + 3_300, T0 + 3_400));
        send("db-loader",
                event("db-loader", job, "l", T0 + 4_000, "info", "loading 1200 rows"),
                metric("db-loader", job, "l", T0 + 48_000, "rows", 1200, "rows"),
                span("db-loader", job, "l", "q", "load", T0 + 3_500, T0 + 48_700));

        Installation.Result[] last = new Installation.Result[1];
        boolean complete = Installation.poll(WAIT, Duration.ofMillis(500), () -> {
            last[0] = cliInPoll("trace", job);
            return last[0].exitCode() == 0 && last[0].output().contains("3 spans, 6 messages");
        });
        assertThat(complete).as("bin/signalbox trace %s: %s", job, last[0]).isTrue();

        String out = last[0].output();
        LOG.info("bin/signalbox trace {}:\n{}", job, out);
        boolean unicode = out.contains("→");
        String arrow = unicode ? "→" : "->";
        String pipe = unicode ? "│   " : "|   ";
        String lastBranch = unicode ? "└── " : "`-- ";
        List<String> lines = out.lines().toList();
        assertThat(lines.get(1)).as("TZ=UTC").startsWith(
                "3 spans, 6 messages from 3 sources in 47.7s, 2026-11-23 14:00:01.000 " + arrow + " 14:00:48.700 (");
        assertThat(lines.subList(2, lines.size())).containsExactly(
                "",
                "receive  2.3s  ok  [file-receiver]",
                pipe + "14:00:01.100  info      got orders.csv",
                lastBranch + "enqueue  0.1s  ok  [queue-service]",
                "    " + lastBranch + "load  45.2s  ok  [db-loader]",
                "            14:00:04.000  info      loading 1200 rows",
                "            14:00:48.000  metric    rows = 1200 rows");
        assertThat(lines.get(0)).isEqualTo(
                job + ": file-receiver 2.3s " + arrow + " queue-service 0.1s " + arrow + " db-loader 45.2s");

        Installation.Result unknown = cli("trace", "no-such-" + job);
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.output()).contains("HTTP 404", "no trace no-such-" + job);
    }

    @Test
    void routesListsTheShippedDefaultRoute() throws Exception {
        Installation.Result routes = cli("routes");

        assertThat(routes.exitCode()).as("%s", routes).isZero();
        List<String> lines = routes.output().lines().toList();
        assertThat(lines.get(0)).startsWith("NAME").contains("SOURCE", "BACKENDS", "ORIGIN");
        // every type (*), and the file it came from relative to the distribution folder
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .matches("default +default +\\* +files +0 +yes +etc/io\\.signalbox\\.route-default\\.cfg"));
    }

    @Test
    void tailShowsALineOfItsSourceSentAfterItStarted() throws Exception {
        Path out = tempDir.resolve("tail.out");
        Path err = tempDir.resolve("tail.err");
        ProcessBuilder pb = new ProcessBuilder(signalbox.home().resolve("bin/signalbox").toString(), "tail", "--source",
                "watch-tail")
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(CLI_ENV);
        Process tail = pb.start();
        try {
            assertThat(Installation.poll(WAIT, () -> read(err).contains("streaming what is routed")))
                    .as("tail connected; stderr: %s", read(err)).isTrue();

            String mine = event("watch-tail", null, null, System.currentTimeMillis(), "info", "seen by tail");
            String other = event("someone-else", null, null, System.currentTimeMillis(), "info", "not for this tail");
            send("watch-tail", mine);
            send("someone-else", other);

            // routed when its batch is flushed: by age, within flush.interval.ms (5 s by default)
            assertThat(Installation.poll(WAIT, () -> read(out).contains(mine)))
                    .as("tail printed the line; stdout: %s; stderr: %s", read(out), read(err)).isTrue();
            assertThat(read(out).lines().toList()).as("only lines of --source watch-tail, exactly as sent")
                    .containsExactly(mine);
        } finally {
            tail.destroy();
            if (!tail.waitFor(30, TimeUnit.SECONDS)) {
                tail.destroyForcibly();
            }
        }
    }

    @Test
    void statusExitsZeroAndShowsHealthRatesAndTheFilesBackend() throws Exception {
        Installation.Result status = signalbox.command("status", CLI_ENV);

        assertThat(status.exitCode()).as("%s", status).isZero();
        List<String> lines = status.output().lines().toList();
        assertThat(lines.get(0)).startsWith("running (pid ");
        assertThat(lines.get(1)).startsWith("Signalbox UP, up ");
        assertThat(lines.get(2)).startsWith("rates over ");
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("  files +file +up +.*"));
    }

    /** Runs {@code bin/signalbox <args…>} from another folder, output and errors together. */
    private Installation.Result cli(String... args) throws IOException, InterruptedException {
        return signalbox.run(CLI_ENV, args);
    }

    private Installation.Result cliInPoll(String... args) {
        try {
            return cli(args);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** One connection per source: what a process with the SDK would do. */
    private void send(String source, String... lines) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream o = s.getOutputStream();
            for (String l : lines) {
                o.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            }
            o.flush();
        }
        LOG.info("sent {} line(s) as {}", lines.length, source);
    }

    private int httpStatus(String path) {
        return Installation.get("http://127.0.0.1:" + httpPort + path).status();
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String span(String src, String tid, String sid, String pid, String name, long start, long end) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + end + ",\"type\":\"span\",\"tid\":\"" + tid + "\",\"sid\":\""
                + sid + "\"" + (pid == null ? "" : ",\"pid\":\"" + pid + "\"") + ",\"data\":{\"name\":\"" + name
                + "\",\"status\":\"ok\",\"start\":" + start + ",\"end\":" + end + "}}";
    }

    static String event(String src, String tid, String sid, long ts, String level, String msg) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + ts + ",\"type\":\"event\""
                + (tid == null ? "" : ",\"tid\":\"" + tid + "\"") + (sid == null ? "" : ",\"sid\":\"" + sid + "\"")
                + ",\"data\":{\"level\":\"" + level + "\",\"msg\":\"" + msg + "\"}}";
    }

    static String metric(String src, String tid, String sid, long ts, String name, long value, String unit) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + ts + ",\"type\":\"metric\",\"tid\":\"" + tid + "\",\"sid\":\""
                + sid + "\",\"data\":{\"name\":\"" + name + "\",\"value\":" + value + ",\"unit\":\"" + unit + "\"}}";
    }
}
