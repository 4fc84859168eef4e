package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;

import io.signalbox.protocol.TestCa;

/**
 * TLS on the assembled distribution with a CA made in the test: TCP and HTTPS with client
 * certificates (mTLS), an untrusted client certificate refused on both, the certificate rotated live.
 */
class TlsIT extends InstallationTest {
    private static String event(String src, int i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_763_900_000_000L + i)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m" + i + "\"}}";
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Installation.STARTUP_TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - end).as("waiting for %s", what).isNegative();
            Thread.sleep(50);
        }
    }

    /** Sends {@code lines} over TLS and returns what the server wrote before it closed. */
    private String sendTls(SSLContext ctx, List<String> lines) throws IOException {
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", signalbox.port())) {
            s.setSoTimeout(30_000);
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            for (String l : lines) {
                out.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            }
            out.flush();
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private int https(SSLContext ctx, String method, String path, String body) throws IOException {
        HttpsURLConnection c = (HttpsURLConnection) URI.create("https://127.0.0.1:" + signalbox.httpPort() + path).toURL()
                .openConnection();
        c.setSSLSocketFactory(ctx.getSocketFactory());
        c.setConnectTimeout(5000);
        c.setReadTimeout(30_000);
        c.setRequestMethod(method);
        if (body != null) {
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/json");
            try (OutputStream out = c.getOutputStream()) {
                out.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = c.getResponseCode();
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            if (in != null) {
                in.readAllBytes();
            }
        }
        return status;
    }

    private static boolean works(IoCall call) {
        try {
            call.run();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private interface IoCall {
        void run() throws IOException;
    }

    private static List<String> events(String src, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(event(src, i));
        }
        return out;
    }

    @Test
    void mutualTlsOnTcpHttpsAndALiveCertificateRotation() throws Exception {
        Path tls = Files.createDirectories(tempDir.resolve("tls"));
        TestCa ca = TestCa.create("signalbox-it-ca");
        TestCa.Identity server = ca.server("sidecar-1");
        server.writeCertificate(tls.resolve("cert.pem"));
        server.writeKey(tls.resolve("key.pem"));
        ca.writeCertificate(tls.resolve("ca.pem"));
        String files = "tls.enabled=true\ntls.cert=" + tls.resolve("cert.pem") + "\ntls.key=" + tls.resolve("key.pem")
                + "\ntls.reload.seconds=1\n";
        Files.writeString(signalbox.home().resolve("etc/io.signalbox.transport.tcp.cfg"),
                "\n" + files + "tls.ca=" + tls.resolve("ca.pem") + "\n", StandardOpenOption.APPEND);
        Files.writeString(signalbox.home().resolve("etc/io.signalbox.http.cfg"),
                "\n" + files + "tls.ca=" + tls.resolve("ca.pem") + "\n", StandardOpenOption.APPEND);
        signalbox.start("with TLS");

        SSLContext trusted = ca.clientContext(ca.client("billing-api"));
        await("HTTPS", () -> works(() -> https(trusted, "GET", "/health", null)));

        // TCP with client certificates
        List<String> expected = new ArrayList<>(events("mtls", 200));
        assertThat(sendTls(trusted, events("mtls", 200))).isEmpty();
        TestCa stranger = TestCa.create("not-our-ca");
        assertThatThrownBy(() -> sendTls(ca.clientContext(stranger.client("intruder")), events("intruder", 1)))
                .as("a client certificate of another CA").isInstanceOf(IOException.class);
        assertThatThrownBy(() -> sendTls(ca.clientContext(null), events("anonymous", 1)))
                .as("no client certificate").isInstanceOf(IOException.class);

        // HTTPS
        assertThat(https(trusted, "POST", "/v1/event", event("https", 0))).isEqualTo(202);
        expected.add(event("https", 0));
        assertThatThrownBy(() -> https(stranger.clientContext(null), "GET", "/health", null))
                .as("a client that does not trust the server's CA").isInstanceOf(IOException.class);
        assertThatThrownBy(() -> https(ca.clientContext(stranger.client("intruder")), "GET", "/health", null))
                .as("HTTPS with a client certificate of another CA").isInstanceOf(IOException.class);
        assertThatThrownBy(() -> https(ca.clientContext(null), "GET", "/health", null))
                .as("HTTPS without a client certificate").isInstanceOf(IOException.class);

        // rotation: a certificate of a new CA, written as an operator would (new files, then renames)
        TestCa next = TestCa.create("signalbox-it-ca-2");
        TestCa.Identity rotated = next.server("sidecar-2");
        rotated.writeCertificate(tls.resolve("cert.pem.new"));
        rotated.writeKey(tls.resolve("key.pem.new"));
        Files.move(tls.resolve("key.pem.new"), tls.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        Files.move(tls.resolve("cert.pem.new"), tls.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        SSLContext trustsTheNewServer = next.clientContext(ca.client("billing-api")); // client cert still of the first CA
        await("the rotated certificate on TCP", () -> works(() -> sendTls(trustsTheNewServer, List.of())));
        await("the rotated certificate on HTTPS", () -> works(() -> https(trustsTheNewServer, "GET", "/health", null)));
        assertThat(sendTls(trustsTheNewServer, events("rotated", 100))).isEmpty();
        expected.addAll(events("rotated", 100));
        assertThat(https(trustsTheNewServer, "POST", "/v1/event", event("https-rotated", 0))).isEqualTo(202);
        expected.add(event("https-rotated", 0));
        assertThat(signalbox.log()).contains("TLS certificate reloaded");

        signalbox.stop();
        List<String> written = Installation.linesUnder(signalbox.filesRoot());
        assertThat(written).containsExactlyInAnyOrderElementsOf(expected);
    }
}
