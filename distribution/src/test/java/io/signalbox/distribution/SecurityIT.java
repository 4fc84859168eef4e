package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * Security of the assembled distribution (issue 14, README "Security"): shared-secret
 * authentication on TCP, the Unix domain socket and HTTP, the socket file's mode, the HTTP guard.
 */
class SecurityIT extends InstallationTest {
    private static final String SECRET = "it-shared-secret-0123456789abcdef";
    private static final String READ_SECRET = "it-read-secret-0123456789abcdef";
    private static final int PER_CONNECTION = 2_000;

    private static String event(String src, int i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_763_900_000_000L + i)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m" + i + "\"}}";
    }

    private static String hello(String src, String token) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":1763900000000,\"type\":\"hello\",\"data\":{\"sdk\":\"it\","
                + "\"version\":\"1\",\"auth\":1,\"token\":\"" + token + "\"}}";
    }

    /** Polls until the log contains {@code text} (the UDS transport starts after the TCP port opened). */
    private void awaitLog(String text) throws InterruptedException {
        long end = System.nanoTime() + Installation.STARTUP_TIMEOUT.toNanos();
        while (!signalbox.log().contains(text)) {
            assertThat(System.nanoTime() - end).as("waiting for the log to say: %s", text).isNegative();
            Thread.sleep(20);
        }
    }

    private void awaitSocket(Path socket) throws InterruptedException {
        awaitLog("Unix domain socket transport listening on " + socket);
    }

    private void append(String cfg, String text) throws IOException {
        Files.writeString(signalbox.home().resolve("etc").resolve(cfg), "\n" + text + "\n", StandardOpenOption.APPEND);
    }

    /** Writes everything, half-closes, and returns what the server wrote until it closed. */
    private static String tcp(int port, String text) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String uds(Path socket, String text) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                c.write(b);
            }
            c.shutdownOutput();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(4096);
            while (c.read(in) >= 0) {
                answer.write(in.array(), 0, in.position());
                in.clear();
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    private int post(String body, String contentType, String bearer) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + signalbox.httpPort() + "/v1/event")
                .toURL().openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", contentType);
        if (bearer != null) {
            c.setRequestProperty("Authorization", "Bearer " + bearer);
        }
        try (OutputStream out = c.getOutputStream()) {
            out.write(body.getBytes(StandardCharsets.UTF_8));
        }
        int status = c.getResponseCode();
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            if (in != null) {
                in.readAllBytes();
            }
        }
        return status;
    }

    private String get(String path, String bearer) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + signalbox.httpPort() + path)
                .toURL().openConnection();
        if (bearer != null) {
            c.setRequestProperty("Authorization", "Bearer " + bearer);
        }
        int status = c.getResponseCode();
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            return status + " " + (in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void withoutTheSecretTcpUdsAndHttpRefuseWhileTheAuthorisedMessagesAllArrive() throws Exception {
        append("io.signalbox.transport.tcp.cfg", "auth.secret=${env:SIGNALBOX_SECRET}");
        append("io.signalbox.transport.uds.cfg", "auth.secret=${env:SIGNALBOX_SECRET}");
        append("io.signalbox.http.cfg", "auth.write.secret=${env:SIGNALBOX_SECRET}\nauth.read.secret=${env:SIGNALBOX_READ_SECRET}");
        signalbox.start("with secrets", Map.of("SIGNALBOX_SECRET", SECRET, "SIGNALBOX_READ_SECRET", READ_SECRET));
        Path socket = signalbox.home().resolve("data/signalbox.sock");
        awaitSocket(socket);
        awaitLog("HTTP server listening on");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");

        // strangers: no hello, a wrong secret, no bearer, the read secret used to write
        assertThat(tcp(signalbox.port(), event("intruder", 1) + "\n"))
                .startsWith("{\"error\":\"unauthorized\",\"reason\":\"no_hello\"");
        assertThat(tcp(signalbox.port(), hello("intruder", "wrong-secret-0123456789abcdef") + "\n" + event("intruder", 2) + "\n"))
                .startsWith("{\"error\":\"unauthorized\",\"reason\":\"bad_secret\"");
        assertThat(uds(socket, event("intruder", 3) + "\n")).startsWith("{\"error\":\"unauthorized\"");
        assertThat(post(event("intruder", 4), "application/json", null)).isEqualTo(401);
        assertThat(post(event("intruder", 5), "application/json", READ_SECRET)).isEqualTo(401);
        assertThat(get("/api/traces", null)).startsWith("401");

        // the authorised senders
        List<String> expected = new ArrayList<>();
        StringBuilder overTcp = new StringBuilder(hello("tcp-app", SECRET)).append('\n');
        StringBuilder overUds = new StringBuilder(hello("uds-app", SECRET)).append('\n');
        for (int i = 0; i < PER_CONNECTION; i++) {
            overTcp.append(event("tcp-app", i)).append('\n');
            overUds.append(event("uds-app", i)).append('\n');
            expected.add(event("tcp-app", i));
            expected.add(event("uds-app", i));
        }
        assertThat(tcp(signalbox.port(), overTcp.toString())).as("nothing said to an authorised client").isEmpty();
        assertThat(uds(socket, overUds.toString())).isEmpty();
        for (int i = 0; i < 20; i++) {
            assertThat(post(event("http-app", i), "application/json", SECRET)).isEqualTo(202);
            expected.add(event("http-app", i));
        }
        assertThat(post(event("http-app", 99), "text/plain", SECRET)).as("not JSON").isEqualTo(415);

        // an SDK through the socket with the secret: the Python SDK of this repository (SIGNALBOX_SOCKET, SIGNALBOX_SECRET)
        Path sdk = Path.of(System.getProperty("signalbox.repo", "..")).resolve("sdk/python").toAbsolutePath().normalize();
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", "from monitoring_sdk import Monitoring\n"
                + "with Monitoring('python-uds') as mon:\n"
                + "    for i in range(50):\n"
                + "        mon.log_event('info', 'over the socket %d' % i)\n")
                .redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", sdk.toString());
        pb.environment().put("SIGNALBOX_SOCKET", socket.toString());
        pb.environment().put("SIGNALBOX_SECRET", SECRET);
        pb.environment().remove("SIGNALBOX_HOST");
        pb.environment().remove("SIGNALBOX_PORT");
        Process python = pb.start();
        String pythonOutput = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(python.waitFor()).as("python SDK: %s", pythonOutput).isZero();

        String sources = get("/api/sources", READ_SECRET);
        assertThat(sources).startsWith("200").contains("\"name\":\"uds-app\"").contains("\"uds_peer_uid\"");
        String metrics = get("/metrics", READ_SECRET);
        assertThat(metrics).contains("signalbox_auth_failures_total{reason=\"no_hello\",transport=\"tcp\"} 1.0")
                .contains("signalbox_auth_failures_total{reason=\"bad_secret\",transport=\"tcp\"} 1.0")
                .contains("signalbox_auth_failures_total{reason=\"no_hello\",transport=\"uds\"} 1.0");

        signalbox.stop();
        assertThat(socket).as("the socket file is removed at stop").doesNotExist();

        List<String> written = Installation.linesUnder(signalbox.filesRoot());
        Set<String> seen = new HashSet<>();
        assertThat(written.stream().filter(l -> !seen.add(l)).toList()).as("duplicates").isEmpty();
        List<String> fromPython = seen.stream().filter(l -> l.contains("\"src\":\"python-uds\"")).toList();
        assertThat(fromPython.stream().filter(l -> l.contains("\"type\":\"event\"")).count())
                .as("the Python SDK's events over the socket").isEqualTo(50);
        seen.removeAll(fromPython);
        assertThat(seen).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(written).noneMatch(l -> l.contains("intruder")).noneMatch(l -> l.contains(SECRET));
        String log = signalbox.log();
        assertThat(log).doesNotContain(SECRET).doesNotContain(READ_SECRET)
                .contains("Authentication failed on tcp connection from 127.0.0.1:");
    }

    @Test
    void theShippedConfigurationListensOnTheSocketWithMode0660AndNeverDeletesAForeignFile() throws Exception {
        Path socket = signalbox.home().resolve("data/signalbox.sock");
        Files.createDirectories(socket.getParent());
        Files.writeString(socket, "not a socket");
        signalbox.start("with a regular file where the socket goes");
        awaitLog(socket + " exists and is not a socket");
        assertThat(Files.readString(socket)).isEqualTo("not a socket");
        // TCP still works
        assertThat(tcp(signalbox.port(), event("still-tcp", 1) + "\n")).isEmpty();
        signalbox.stop();

        Files.delete(socket);
        signalbox.start("with the path free");
        awaitSocket(socket);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
        assertThat(uds(socket, event("over-uds", 1) + "\n")).isEmpty();
        signalbox.stop();
        assertThat(Installation.linesUnder(signalbox.filesRoot())).contains(event("still-tcp", 1), event("over-uds", 1));
    }
}
