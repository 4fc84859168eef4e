package io.signalbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery scenario against the real sidecar: a private copy of the assembled distribution
 * ({@code distribution/target/signalbox}, built by the reactor before {@code sdk/}) on a free
 * port, driven through its {@code bin/signalbox}; what the SDK sends is read back from the file
 * backend under {@code data/files}. Skipped, with a message, when the distribution is not built.
 */
class RealSidecarTest {
    private static final String SOURCE = "sdk-java-it";
    private static final Duration STARTUP = Duration.ofSeconds(60);
    /** Batches reach the file backend by age (5 s by default) or at a graceful stop. */
    private static final Duration FLUSHED = Duration.ofSeconds(30);

    @TempDir
    Path tempDir;

    private Path home;
    private int port;
    private Monitoring monitoring;

    @BeforeEach
    void copyDistribution() throws IOException {
        Path from = Path.of(System.getProperty("signalbox.distribution", "../../distribution/target/signalbox"))
                .toAbsolutePath().normalize();
        assumeTrue(Files.isExecutable(from.resolve("bin/signalbox")), "no assembled distribution at " + from
                + ": skipping the real-sidecar scenario (build it with mvn -B -q -o package -DskipTests -pl distribution)");
        home = tempDir.resolve("signalbox");
        copyTree(from, home);
        port = freePort();
        setPort(home.resolve("etc/io.signalbox.transport.tcp.cfg"), port);
        Path http = home.resolve("etc/io.signalbox.http.cfg");
        if (Files.exists(http)) {
            setPort(http, freePort()); // never the shared default 17001
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void setPort(Path cfg, int port) throws IOException {
        String text = Files.readString(cfg, StandardCharsets.UTF_8);
        assertThat(text).as(cfg.toString()).containsPattern("(?m)^port=\\d+$");
        Files.writeString(cfg, text.replaceFirst("(?m)^port=\\d+$", "port=" + port), StandardCharsets.UTF_8);
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (monitoring != null) {
            monitoring.close();
        }
        if (home != null && Files.exists(home.resolve("data/signalbox.pid"))) {
            signalbox("stop");
        }
    }

    @Test
    void everythingLoggedArrivesInOrderAcrossAGracefulSidecarRestartAndWhatWasLoggedWhileItWasDownIsReplayed()
            throws Exception {
        assertThat(signalbox("start")).as("bin/signalbox start").isZero();
        awaitListening();
        monitoring = Monitoring.builder().source(SOURCE).host("127.0.0.1").port(port).bufferSize(500)
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).closeTimeout(Duration.ofSeconds(10))
                .closeOnShutdown(false).build();

        monitoring.setContext("job_id", "job-it-1");
        try (Span span = monitoring.startSpan("phase-1")) {
            span.attr("messages", 100);
            for (int i = 1; i <= 100; i++) {
                monitoring.logEvent("info", "seq-" + i);
            }
            monitoring.logMetric("rows_loaded", 100L, "count", Map.of("table", "orders"));
        }
        assertThat(Poll.until(FLUSHED, () -> events().size() == 100)).as("phase 1 on disk: %s", events().size()).isTrue();

        assertThat(signalbox("stop")).as("bin/signalbox stop").isZero();
        for (int i = 101; i <= 150; i++) {
            monitoring.logEvent("info", "seq-" + i); // while the sidecar is down
        }
        assertThat(Poll.until(FLUSHED, () -> monitoring.state() == Monitoring.State.DISCONNECTED)).isTrue();
        assertThat(monitoring.buffered()).isEqualTo(50);

        assertThat(signalbox("start")).as("bin/signalbox start again").isZero();
        awaitListening();
        assertThat(Poll.until(FLUSHED, () -> monitoring.buffered() == 0 && monitoring.state() == Monitoring.State.CONNECTED))
                .as("replayed after the restart").isTrue();
        for (int i = 151; i <= 200; i++) {
            monitoring.logEvent("info", "seq-" + i);
        }
        monitoring.close();
        assertThat(Poll.until(FLUSHED, () -> events().size() == 200)).as("all on disk: %s", events().size()).isTrue();
        assertThat(signalbox("stop")).isZero();

        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            expected.add("seq-" + i);
        }
        assertThat(events()).as("every event once, in order").isEqualTo(expected);
        List<Map<String, Object>> lines = sdkLines();
        assertThat(lines).anySatisfy(m -> {
            assertThat(m).containsEntry("type", "span").containsEntry("tid", "job-it-1");
            @SuppressWarnings("unchecked")
            Map<String, Object> data = (Map<String, Object>) m.get("data");
            assertThat(data).containsEntry("name", "phase-1").containsEntry("status", "ok");
        });
        assertThat(lines).anySatisfy(m -> assertThat(m).containsEntry("type", "metric"));
        assertThat(monitoring.dropped()).isZero();
        assertThat(monitoring.sent()).isEqualTo(202);
        assertThat(log()).doesNotContain("malformed", "missing field", "bad_type");
    }

    private List<String> events() {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> m : sdkLines()) {
            if ("event".equals(m.get("type"))) {
                out.add((String) ((Map<?, ?>) m.get("data")).get("msg"));
            }
        }
        return out;
    }

    /** Every line of this test's source in the file backend's files, in file order. */
    private List<Map<String, Object>> sdkLines() {
        Path root = home.resolve("data/files");
        List<Map<String, Object>> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                InputStream raw = Files.newInputStream(f);
                InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.contains(SOURCE)) {
                            Map<String, Object> m = MiniJson.object(line);
                            if (SOURCE.equals(m.get("src"))) {
                                out.add(m);
                            }
                        }
                    }
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            return List.of(); // a file being written: the next poll reads it whole
        }
        return out;
    }

    private int signalbox(String command) throws IOException, InterruptedException {
        Path out = tempDir.resolve("signalbox-" + command + "-" + System.nanoTime() + ".out");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/signalbox").toString(), command)
                .directory(tempDir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SIGNALBOX_JAVA_OPTS", "-Xmx256m");
        pb.environment().remove("SIGNALBOX_STOP_TIMEOUT");
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/signalbox " + command + " did not return: " + Files.readString(out));
        }
        return p.exitValue();
    }

    private void awaitListening() {
        boolean up = Poll.until(STARTUP, () -> {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
        assertThat(up).as("sidecar listening on %d; log:\n%s", port, log()).isTrue();
    }

    private String log() {
        try {
            Path f = home.resolve("log/signalbox.log");
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Copies keeping file modes; data/ and log/ stay behind (the assembled folder may have been run in place). */
    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String rel = from.relativize(dir).toString();
                Files.createDirectories(to.resolve(rel));
                return rel.equals("data") || rel.equals("log") ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                        LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
