package io.signalbox.transport.tcp.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.signalbox.api.FakeIngest;
import io.signalbox.protocol.TestCa;

/** TLS on the TCP transport with a CA made in the test. */
class TcpTlsTest {
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final FakeIngest ingest = new FakeIngest();
    private final List<Socket> sockets = new ArrayList<>();
    private TcpTransport transport;
    private TestCa ca;

    @BeforeEach
    void certificates() throws Exception {
        ca = TestCa.create("signalbox-test-ca");
        TestCa.Identity server = ca.server("sidecar");
        server.writeCertificate(dir.resolve("cert.pem"));
        server.writeKey(dir.resolve("key.pem"));
        ca.writeCertificate(dir.resolve("ca.pem"));
    }

    private void start(Map<String, Object> overrides) throws IOException {
        Map<String, Object> props = new HashMap<>();
        props.put("host", "127.0.0.1");
        props.put("port", 0);
        props.put("io.threads", 2);
        props.put("tls.enabled", true);
        props.put("tls.cert", dir.resolve("cert.pem").toString());
        props.put("tls.key", dir.resolve("key.pem").toString());
        props.putAll(overrides);
        transport = new TcpTransport(Converters.standardConverter().convert(props).to(TcpTransport.Config.class), props,
                ingest);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (transport != null) {
            transport.deactivate();
        }
        ingest.close();
    }

    private SSLSocket tls(SSLContext ctx) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", transport.port());
        s.setSoTimeout((int) DEADLINE.toMillis());
        sockets.add(s);
        s.startHandshake();
        return s;
    }

    private static void write(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    private static String lines(String src, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(Lines.event(src, i)).append('\n');
        }
        return b.toString();
    }

    @Test
    void linesOverTlsArriveAndOnlyTls12AndNewerAreOffered() throws Exception {
        start(Map.of());
        SSLSocket s = tls(ca.clientContext(null));
        assertThat(s.getSession().getProtocol()).isIn("TLSv1.3", "TLSv1.2");

        write(s, lines("tls", 1000));

        waitUntil("1000 messages", () -> ingest.count() == 1000);
        assertThat(ingest.lines().get(999)).isEqualTo(Lines.event("tls", 999));

        SSLSocket old = (SSLSocket) ca.clientContext(null).getSocketFactory().createSocket("localhost", transport.port());
        sockets.add(old);
        old.setEnabledProtocols(new String[] { "TLSv1.1" });
        assertThatThrownBy(old::startHandshake).isInstanceOf(IOException.class);
    }

    @Test
    void aPlainTextClientDeliversNothing() throws Exception {
        start(Map.of());
        Socket plain = new Socket("127.0.0.1", transport.port());
        sockets.add(plain);
        plain.setSoTimeout((int) DEADLINE.toMillis());
        write(plain, lines("plain", 10));
        plain.shutdownOutput();
        plain.getInputStream().readAllBytes(); // the server ends the connection (a TLS alert at most)

        SSLSocket s = tls(ca.clientContext(null));
        write(s, lines("tls", 1));
        waitUntil("the TLS message", () -> ingest.count() == 1);
        assertThat(ingest.lines()).containsExactly(Lines.event("tls", 0));
    }

    @Test
    void withACaOnlyClientsWithACertificateOfThatCaAreAccepted() throws Exception {
        start(Map.of("tls.ca", dir.resolve("ca.pem").toString()));
        TestCa stranger = TestCa.create("someone-else");

        assertThatThrownBy(() -> {
            SSLSocket s = tls(ca.clientContext(null));
            write(s, lines("anonymous", 1));
            s.getInputStream().read();
        }).as("no client certificate").isInstanceOf(IOException.class);
        assertThatThrownBy(() -> {
            SSLSocket s = tls(ca.clientContext(stranger.client("untrusted")));
            write(s, lines("untrusted", 1));
            s.getInputStream().read();
        }).as("a certificate of another CA").isInstanceOf(IOException.class);

        SSLSocket trusted = tls(ca.clientContext(ca.client("billing")));
        assertThat(trusted.getSession().getProtocol()).as("TLS 1.2 with client certificates (MINA 2.2.4)")
                .isEqualTo("TLSv1.2");
        write(trusted, lines("trusted", 5));
        waitUntil("5 messages", () -> ingest.count() == 5);
        assertThat(ingest.lines()).allMatch(l -> l.contains("\"src\":\"trusted\""));
    }

    @Test
    void aRotatedCertificateIsServedToNewConnectionsWithoutRestart() throws Exception {
        start(Map.of("tls.reload.seconds", 1));
        SSLSocket before = tls(ca.clientContext(null));
        write(before, lines("before", 1));
        waitUntil("the first message", () -> ingest.count() == 1);

        TestCa next = TestCa.create("next-ca");
        TestCa.Identity rotated = next.server("sidecar-2");
        rotated.writeCertificate(dir.resolve("cert.pem.new"));
        rotated.writeKey(dir.resolve("key.pem.new"));
        Files.move(dir.resolve("key.pem.new"), dir.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(dir.resolve("cert.pem.new"), dir.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);

        SSLContext trustsOnlyTheNewCa = next.clientContext(null);
        waitUntil("the new certificate is served", () -> {
            try {
                tls(trustsOnlyTheNewCa).close();
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
        SSLSocket after = tls(trustsOnlyTheNewCa);
        assertThat(after.getSession().getPeerPrincipal().getName()).isEqualTo("CN=sidecar-2");
        write(after, lines("after", 1));
        write(before, Lines.event("before", 1) + "\n"); // the open connection keeps working
        waitUntil("3 messages", () -> ingest.count() == 3);
    }

    @Test
    void missingOrMismatchedFilesAreRejectedWithTheReason() throws Exception {
        assertThatThrownBy(() -> start(Map.of("tls.cert", dir.resolve("nope.pem").toString())))
                .hasMessageContaining("TLS: ").hasMessageContaining("nope.pem");
        ca.server("other").writeKey(dir.resolve("other-key.pem"));
        assertThatThrownBy(() -> start(Map.of("tls.key", dir.resolve("other-key.pem").toString())))
                .hasMessageContaining("does not belong to the first certificate");
        assertThatThrownBy(() -> start(Map.of("tls.enabled", false)))
                .hasMessageContaining("need tls.enabled=true");
    }
}
