package io.signalbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS, the secret and the Unix domain socket (issue 14): against {@code fake_sidecar.py} as a
 * TLS-terminating sidecar with a throwaway CA ({@code sdk/conformance/test_ca.py}) that checks the
 * hello as docs/protocol.md says, and against the real assembled sidecar with {@code auth.secret}
 * on TCP and on the Unix domain socket.
 */
class SecurityTest {
    private static final String SECRET = "java-test-secret-0123456789";
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    private final List<Monitoring> clients = new ArrayList<>();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Logger sdkLog = Logger.getLogger("io.signalbox.sdk");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureWarnings() {
        sdkLog.addHandler(capture);
    }

    @AfterEach
    void closeAll() {
        clients.forEach(Monitoring::close);
        sdkLog.removeHandler(capture);
    }

    private static Path conformance() {
        return Path.of(System.getProperty("signalbox.conformance", "../conformance")).toAbsolutePath().normalize();
    }

    private Monitoring track(Monitoring m) {
        clients.add(m);
        return m;
    }

    private static Monitoring.Builder fast(String source) {
        return Monitoring.builder().source(source).closeOnShutdown(false).heartbeatInterval(Duration.ofHours(1))
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300)).environment(Map.of());
    }

    private static List<String> events(List<String> lines, String prefix) {
        return lines.stream().map(MiniJson::object).filter(m -> "event".equals(m.get("type")))
                .map(m -> (String) ((Map<?, ?>) m.get("data")).get("msg")).filter(s -> s.startsWith(prefix))
                .collect(Collectors.toList());
    }

    private static List<String> numbered(String prefix, int n) {
        return IntStream.rangeClosed(1, n).mapToObj(i -> prefix + i).collect(Collectors.toList());
    }

    /** ca.pem, server.pem, server.key, other-ca.pem in tmp/ca; skipped without python3 or openssl. */
    private Path testCa() throws Exception {
        assumeTrue(PythonFakeSidecar.available(conformance().resolve("fake_sidecar.py")), "python3 runs the fake sidecar");
        Path ca = tmp.resolve("ca");
        Process p = new ProcessBuilder("python3", conformance().resolve("test_ca.py").toString(), ca.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "test_ca.py (needs openssl): " + out);
        return ca;
    }

    private PythonFakeSidecar tlsSidecar(Path ca) throws IOException {
        return new PythonFakeSidecar(conformance().resolve("fake_sidecar.py"), Files.createDirectories(tmp.resolve("fake")), 0)
                .with("--tls-cert", ca.resolve("server.pem").toString(), "--tls-key", ca.resolve("server.key").toString(),
                        "--secret", SECRET)
                .start();
    }

    @Test
    void tlsWithTheTestCaAndTheSecretDeliversEverythingAndUntrustedOnesNothing() throws Exception {
        Path ca = testCa();
        try (PythonFakeSidecar side = tlsSidecar(ca)) {
            Monitoring ok = track(fast("tls-ok").host("127.0.0.1").port(side.port()).caFile(ca.resolve("ca.pem"))
                    .serverName("localhost").secret(SECRET).build());
            assertThat(ok.tls()).as("caFile turns TLS on").isTrue();
            for (int i = 1; i <= 300; i++) {
                ok.logEvent("info", "ok " + i);
            }
            ok.close();
            assertThat(ok.sent()).isEqualTo(300);
            assertThat(side.awaitLine(l -> l.contains("\"ok 300\""), WAIT)).isTrue();
            assertThat(events(side.lines(), "ok ")).isEqualTo(numbered("ok ", 300));
            assertThat(warnings).isEmpty();

            // from the environment
            Monitoring env = track(Monitoring.builder().source("tls-env").closeOnShutdown(false)
                    .environment(Map.of("SIGNALBOX_TLS_CA_FILE", ca.resolve("ca.pem").toString(),
                            "SIGNALBOX_TLS_SERVER_NAME", "localhost", "SIGNALBOX_SECRET", SECRET,
                            "SIGNALBOX_PORT", Integer.toString(side.port())))
                    .build());
            env.logEvent("info", "env 1");
            env.close();
            assertThat(side.awaitLine(l -> l.contains("\"env 1\""), WAIT)).isTrue();

            // untrusted: another CA, a name the certificate does not have, the JVM's trust store only
            List<Monitoring> bad = List.of(
                    track(fast("tls-bad").host("127.0.0.1").port(side.port()).caFile(ca.resolve("other-ca.pem")).secret(SECRET).build()),
                    track(fast("tls-bad").host("127.0.0.1").port(side.port()).caFile(ca.resolve("ca.pem"))
                            .serverName("evil.example").secret(SECRET).build()),
                    track(fast("tls-bad").host("127.0.0.1").port(side.port()).tls(true).secret(SECRET).build()));
            for (Monitoring m : bad) {
                for (int i = 0; i < 5; i++) {
                    m.logEvent("info", "untrusted " + i);
                }
            }
            assertThat(Poll.until(WAIT, () -> warnings.stream().filter(w -> w.contains("TLS with 127.0.0.1:" + side.port() + " failed"))
                    .count() >= 3)).as("warnings %s", warnings).isTrue();
            Thread.sleep(500);
            for (Monitoring m : bad) {
                assertThat(m.buffered()).as("the messages are kept").isEqualTo(5);
                assertThat(m.sent()).isZero();
                assertThat(m.state()).isEqualTo(Monitoring.State.DISCONNECTED);
            }
            assertThat(warnings).noneMatch(w -> w.contains(SECRET));
            assertThat(events(side.lines(), "untrusted")).isEmpty();
        }
    }

    @Test
    void aWrongOrMissingSecretIsRefusedCountedWarnedOnceAndLosesNothing() throws Exception {
        Path ca = testCa();
        try (PythonFakeSidecar side = tlsSidecar(ca)) {
            Monitoring wrong = track(fast("wrong").host("127.0.0.1").port(side.port()).caFile(ca.resolve("ca.pem"))
                    .secret("not-it").build());
            for (int i = 0; i < 10; i++) {
                wrong.logEvent("info", "refused " + i);
            }
            assertThat(Poll.until(WAIT, () -> wrong.authFailures() >= 2)).as("refusals counted").isTrue();
            assertThat(wrong.lastError()).isEqualTo("bad_secret");
            assertThat(wrong.buffered()).as("nothing lost: messages wait for the verdict").isEqualTo(10);
            assertThat(wrong.sent()).isZero();
            List<String> refusals = warnings.stream().filter(w -> w.contains("refused the connection")).toList();
            assertThat(refusals).hasSize(1);
            assertThat(refusals.get(0)).contains("unauthorized (bad_secret); 10 messages kept in the buffer");
            assertThat(warnings).noneMatch(w -> w.contains("not-it"));
            assertThat(events(side.lines(), "refused")).isEmpty();

        }
        // no secret: over plain TCP (over TLS the Java SDK does not yet read a refusal that arrives
        // together with the reset its next write caused; with a secret it never writes before the verdict)
        try (PythonFakeSidecar side = new PythonFakeSidecar(conformance().resolve("fake_sidecar.py"),
                Files.createDirectories(tmp.resolve("plain")), 0).with("--secret", SECRET).start()) {
            Monitoring none = track(fast("none").host("127.0.0.1").port(side.port()).build());
            none.logEvent("info", "first"); // written at once: nothing to wait for without a secret ...
            // ... unless the sidecar's refusal of the hello already broke the connection (a busy machine):
            // then the write failed and "first" stays in the buffer, which is just as right
            assertThat(Poll.until(WAIT, () -> none.sent() == 1 || none.authFailures() >= 1)).isTrue();
            Thread.sleep(300); // the refusal arrives; it is read before the next write
            long firstKept = 1 - none.sent();
            for (int i = 0; i < 3; i++) {
                none.logEvent("info", "later " + i);
            }
            assertThat(Poll.until(WAIT, () -> none.authFailures() >= 2)).as("refusals counted").isTrue();
            assertThat(none.lastError()).isEqualTo("no_secret");
            assertThat(none.buffered()).as("after a refusal messages wait for the verdict").isEqualTo(3 + firstKept);
            assertThat(warnings).anyMatch(w -> w.contains("no secret is set (secret, SIGNALBOX_SECRET)"));
            assertThat(events(side.lines(), "later")).isEmpty();
        }
    }

    @Test
    void unixDomainSocketFromTheEnvironmentWithTheSecretAndTlsIgnoredThere() throws Exception {
        Path script = conformance().resolve("fake_sidecar.py");
        assumeTrue(PythonFakeSidecar.available(script), "python3 runs the fake sidecar");
        Path sock = tmp.resolve("fake.sock");
        try (PythonFakeSidecar side = new PythonFakeSidecar(script, Files.createDirectories(tmp.resolve("uds")), 0)
                .with("--unix", sock.toString(), "--secret", SECRET).start()) {
            Monitoring m = track(Monitoring.builder().source("uds").closeOnShutdown(false)
                    .environment(Map.of("SIGNALBOX_SOCKET", sock.toString(), "SIGNALBOX_SECRET", SECRET, "SIGNALBOX_TLS", "1"))
                    .build());
            assertThat(m.socketPath()).isEqualTo(sock);
            assertThat(m.tls()).isFalse();
            assertThat(warnings).anyMatch(w -> w.contains("TLS is for TCP; the Unix domain socket " + sock));
            for (int i = 1; i <= 50; i++) {
                m.logEvent("info", "uds " + i);
            }
            m.close();
            assertThat(side.awaitLine(l -> l.contains("\"uds 50\""), WAIT)).isTrue();
            assertThat(events(side.lines(), "uds ")).isEqualTo(numbered("uds ", 50));
        }
    }

    @Test
    void aCaFileThatIsNotPemIsAClearError() throws IOException {
        Path notPem = Files.writeString(tmp.resolve("not.pem"), "hello");
        assertThatThrownBy(() -> fast("x").caFile(notPem).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("caFile " + notPem);
    }

    /** The real assembled sidecar with auth.secret on TCP and on the Unix domain socket. */
    @Test
    void realSidecarRightSecretDeliversOverTcpAndUdsWrongSecretNothingAndIsReported() throws Exception {
        Path from = Path.of(System.getProperty("signalbox.distribution", "../../distribution/target/signalbox"))
                .toAbsolutePath().normalize();
        assumeTrue(Files.isExecutable(from.resolve("bin/signalbox")), "no assembled distribution at " + from);
        assumeTrue(Files.exists(from.resolve("etc/io.signalbox.transport.uds.cfg")), "no Unix domain socket transport");
        Path home = tmp.resolve("signalbox");
        RealSidecarTest.copyTree(from, home);
        int port = RealSidecarTest.freePort();
        RealSidecarTest.setPort(home.resolve("etc/io.signalbox.transport.tcp.cfg"), port);
        if (Files.exists(home.resolve("etc/io.signalbox.http.cfg"))) {
            RealSidecarTest.setPort(home.resolve("etc/io.signalbox.http.cfg"), RealSidecarTest.freePort());
        }
        for (String cfg : List.of("io.signalbox.transport.tcp.cfg", "io.signalbox.transport.uds.cfg")) {
            Files.writeString(home.resolve("etc").resolve(cfg), "\nauth.secret=" + SECRET + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        }
        Path sock = home.resolve("data/signalbox.sock");
        try {
            assertThat(signalbox(home, "start")).isZero();
            assertThat(Poll.until(Duration.ofSeconds(60), () -> Files.exists(sock))).as("the socket; log:\n%s", log(home)).isTrue();

            Monitoring wrong = track(fast("java-wrong").host("127.0.0.1").port(port).secret("not-the-secret").build());
            for (int i = 0; i < 20; i++) {
                wrong.logEvent("info", "wrong " + i);
            }
            assertThat(Poll.until(WAIT, () -> wrong.authFailures() >= 1)).as("refused; log:\n%s", log(home)).isTrue();
            assertThat(wrong.lastError()).isEqualTo("bad_secret");
            // how many of the 20 are in the buffer when the refusal arrives depends on timing: the SDK connects
            // while they are logged, and the sidecar may refuse before the first (CI saw "0 messages kept")
            assertThat(warnings).anyMatch(w -> w.matches("(?s).*unauthorized \\(bad_secret\\); \\d+ messages kept.*"));
            assertThat(warnings).noneMatch(w -> w.contains("not-the-secret"));

            Monitoring tcp = track(fast("java-tcp").host("127.0.0.1").port(port).secret(SECRET).build());
            Monitoring uds = track(Monitoring.builder().source("java-uds").closeOnShutdown(false)
                    .environment(Map.of("SIGNALBOX_SOCKET", sock.toString(), "SIGNALBOX_SECRET", SECRET)).build());
            for (int i = 1; i <= 300; i++) {
                tcp.logEvent("info", "tcp " + i);
                uds.logEvent("info", "uds " + i);
            }
            tcp.close();
            uds.close();
            assertThat(tcp.sent()).isEqualTo(300);
            assertThat(uds.sent()).isEqualTo(300);
            assertThat(tcp.authFailures() + uds.authFailures()).isZero();
            assertThat(wrong.buffered()).as("the wrong secret's messages are still kept").isEqualTo(20);
            wrong.close();
            assertThat(signalbox(home, "stop")).isZero(); // graceful: the file backend flushes
            assertThat(fileEvents(home, "java-tcp")).isEqualTo(numbered("tcp ", 300));
            assertThat(fileEvents(home, "java-uds")).isEqualTo(numbered("uds ", 300));
            assertThat(fileEvents(home, "java-wrong")).isEmpty();
            assertThat(log(home)).doesNotContain(SECRET);
        } finally {
            signalbox(home, "stop");
        }
    }

    private static List<String> fileEvents(Path home, String source) throws IOException {
        Path dir = home.resolve("data/files").resolve(source);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".jsonl")).sorted().toList()) {
                lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
            }
        }
        return events(lines.stream().filter(l -> !l.isBlank()).toList(), "");
    }

    private static int signalbox(Path home, String command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/signalbox").toString(), command)
                .directory(home.getParent().toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SIGNALBOX_JAVA_OPTS", "-Xmx256m");
        pb.environment().remove("SIGNALBOX_STOP_TIMEOUT");
        pb.environment().remove("SIGNALBOX_SECRET");
        Process p = pb.start();
        try (InputStream out = p.getInputStream()) {
            out.transferTo(java.io.OutputStream.nullOutputStream());
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/signalbox " + command + " did not return");
        }
        return p.exitValue();
    }

    private static String log(Path home) {
        try {
            Path f = home.resolve("log/signalbox.log");
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }
}
