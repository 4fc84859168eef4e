package io.signalbox.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;

import com.sun.net.httpserver.HttpServer;

/**
 * The webhook backend bundle (not part of the run set) installed, uninstalled, reinstalled and
 * updated while messages flow to it: what fileinstall does for a jar in {@code deploy/}. The
 * receiving end is an HTTP server in the test.
 */
class HotDeployIT extends SidecarTest {
    /** Set by test.bndrun to the webhook jar that the build copies into itests/target/optional/. */
    static final String JAR_PROPERTY = "signalbox.webhook.jar";
    private static final Pattern SEQ = Pattern.compile("\"msg\":\"hd-(\\d+)\"");
    private static final int MESSAGES = 3000;

    private HttpServer server;
    /** Sequence numbers in the order the HTTP server received them. */
    private final List<Integer> received = new ArrayList<>();
    private Bundle webhook;

    @BeforeEach
    void startReceiver() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/in", exchange -> {
            try (InputStream raw = exchange.getRequestBody()) {
                InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                        ? new GZIPInputStream(raw) : raw;
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                Matcher m = SEQ.matcher(body);
                synchronized (received) {
                    while (m.find()) {
                        received.add(Integer.parseInt(m.group(1)));
                    }
                }
                exchange.sendResponseHeaders(204, -1);
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(Executors.newSingleThreadExecutor());
        server.start();
    }

    @Override
    void cleanUp() throws Exception {
        super.cleanUp();
        if (webhook != null && webhook.getState() != Bundle.UNINSTALLED) {
            webhook.uninstall();
        }
        server.stop(0);
    }

    @Test
    void backendBundleUninstalledWhileMessagesFlowThenInstalledAgainDeliversEveryMessageExactlyOnceInOrder()
            throws Exception {
        webhook = installWebhook();
        configureHookAndRoute("hd1");
        Thread sender = startSender("hd1-src");
        try {
            Sidecar.waitUntil("the webhook receives messages", () -> receivedCount() >= 300);
            webhook.uninstall();
            int atUninstall = receivedCount();
            Sidecar.waitUntil("routing waits for the backend that went away",
                    () -> sidecar.stat("signalbox_channel_waiting_for_backend", "backend", "hd1") == 1);
            // messages keep arriving and are kept while the backend is away
            Sidecar.waitUntil("more messages routed to hd1 while it is away",
                    () -> sidecar.stat("signalbox_channel_queued_messages", "backend", "hd1") > 0 || sentSoFar.get() >= MESSAGES);
            assertThat(receivedCount()).as("nothing received while the bundle is uninstalled")
                    .isEqualTo(atUninstall);
            webhook = installWebhook();
        } finally {
            sender.join(TimeUnit.SECONDS.toMillis(60));
        }
        Sidecar.waitUntil("all " + MESSAGES + " messages received", () -> receivedCount() >= MESSAGES);
        awaitQuiet();
        Sidecar.assertExactlyOnceInOrder("webhook receipts", snapshot(), MESSAGES);
    }

    @Test
    void backendBundleUpdatedFromTheSameJarUnderTrafficLosesNothingAndDuplicatesNothing() throws Exception {
        webhook = installWebhook();
        configureHookAndRoute("hd2");
        Thread sender = startSender("hd2-src");
        try {
            Sidecar.waitUntil("the webhook receives messages", () -> receivedCount() >= 300);
            try (InputStream jar = Files.newInputStream(webhookJar())) {
                webhook.update(jar);
            }
            Sidecar.waitUntil("the updated bundle is active again", () -> webhook.getState() == Bundle.ACTIVE);
            int afterUpdate = receivedCount();
            Sidecar.waitUntil("the updated bundle receives messages",
                    () -> receivedCount() > afterUpdate || sentSoFar.get() >= MESSAGES);
        } finally {
            sender.join(TimeUnit.SECONDS.toMillis(60));
        }
        Sidecar.waitUntil("all " + MESSAGES + " messages received", () -> receivedCount() >= MESSAGES);
        awaitQuiet();
        Sidecar.assertExactlyOnceInOrder("webhook receipts", snapshot(), MESSAGES);
    }

    // --- helpers -----------------------------------------------------------------------

    private final AtomicInteger sentSoFar = new AtomicInteger();

    private static Path webhookJar() {
        String jar = System.getProperty(JAR_PROPERTY);
        assertThat(jar).as("system property %s (set in test.bndrun)", JAR_PROPERTY).isNotNull();
        Path path = Path.of(jar);
        assertThat(path).as("the webhook bundle jar").isRegularFile();
        return path;
    }

    private Bundle installWebhook() throws Exception {
        Bundle b = context.installBundle(webhookJar().toUri().toString());
        b.start();
        return b;
    }

    private void configureHookAndRoute(String name) throws IOException {
        sidecar.factory("io.signalbox.backend.webhook", name,
                Map.of("url", "http://127.0.0.1:" + server.getAddress().getPort() + "/in"));
        sidecar.route(name, Map.of("source", name + "-src", "backends", new String[] {name}));
    }

    /** {@value #MESSAGES} messages over about 3 s on one connection, in sequence order. */
    private Thread startSender(String src) {
        Thread t = new Thread(() -> {
            try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
                OutputStream out = s.getOutputStream();
                for (int seq = 0; seq < MESSAGES; ) {
                    StringBuilder b = new StringBuilder();
                    for (int i = 0; i < 10 && seq < MESSAGES; i++, seq++) {
                        b.append(Sidecar.event(src, "hd", seq)).append('\n');
                    }
                    out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    sentSoFar.set(seq);
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                }
            } catch (IOException e) {
                throw new IllegalStateException("sender failed after " + sentSoFar.get(), e);
            }
        }, "hot-deploy-sender");
        t.start();
        return t;
    }

    private int receivedCount() {
        synchronized (received) {
            return received.size();
        }
    }

    private List<Integer> snapshot() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    /** A duplicate would arrive after the last new message: wait until the count is stable for 1 s. */
    private void awaitQuiet() throws InterruptedException {
        int[] last = {-1};
        long[] since = {System.nanoTime()};
        Sidecar.waitUntil("no more receipts for 1 s", () -> {
            int now = receivedCount();
            if (now != last[0]) {
                last[0] = now;
                since[0] = System.nanoTime();
                return false;
            }
            return System.nanoTime() - since[0] > TimeUnit.SECONDS.toNanos(1);
        });
    }
}
