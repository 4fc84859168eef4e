package io.signalbox.distribution;

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
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.net.httpserver.HttpServer;

/**
 * The assembled distribution under steady load (4 connections, 50,000 messages each over about
 * 20 s) while an operator changes it through its folders: a route file is rewritten twice, a
 * YAML file is dropped into {@code etc/}, and the webhook bundle from {@code optional/} is copied
 * into {@code deploy/}, updated (newer timestamp) and removed (and copied back once the load is
 * over, so that what was kept for it is delivered). Afterwards every message is accounted for.
 *
 * <p>Connections and sources: 1 = {@code load-x} (route file: a → b → a), 2 = {@code load-y}
 * (default route → the YAML file's backend), 3 = {@code load-w} (webhook, hot-deployed),
 * 4 = {@code load-z} (default route throughout).
 */
class LiveOperationsUnderLoadIT extends InstallationTest {
    private static final Logger LOG = LoggerFactory.getLogger(LiveOperationsUnderLoadIT.class);

    private static final int CONNECTIONS = 4;
    private static final int PER_CONNECTION = 50_000;
    /** 25 lines every 10 ms = 2,500 a second per connection: 20 s for 50,000. */
    private static final int LINES_PER_TICK = 25;
    private static final String[] SOURCES = {"load-x", "load-y", "load-w", "load-z"};
    private static final Pattern KEY = Pattern.compile("\"msg\":\"e2e-(\\d)-(\\d+)\"");
    private static final Duration DELIVERY_TIMEOUT = Duration.ofMinutes(3);

    private HttpServer server;
    /** conn*1_000_000+seq of every message the webhook received, in arrival order. */
    private final List<Long> webhookReceipts = new ArrayList<>();

    @BeforeEach
    void startWebhookReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/in", exchange -> {
            try (InputStream raw = exchange.getRequestBody()) {
                InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                        ? new GZIPInputStream(raw) : raw;
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                Matcher m = KEY.matcher(body);
                synchronized (webhookReceipts) {
                    while (m.find()) {
                        webhookReceipts.add(Long.parseLong(m.group(1)) * 1_000_000L + Long.parseLong(m.group(2)));
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

    @AfterEach
    void stopWebhookReceiver() {
        signalbox.stopQuietly(); // before the receiver goes: the sidecar's last deliveries still find it
        server.stop(0);
    }

    @Test
    void everyMessageIsDeliveredExactlyOnceToTheBackendsItsRouteNamedWhileRoutesYamlAndBundlesChange() throws Exception {
        Path home = signalbox.home();
        Path deploy = home.resolve("deploy");
        Path jar = home.resolve("optional/io.signalbox.backend.webhook.jar");
        assertThat(jar).as("the webhook bundle ships in optional/").isRegularFile();
        assertThat(home.resolve("system/io.signalbox.backend.webhook.jar")).as("and not in system/").doesNotExist();

        signalbox.configure("etc/io.signalbox.backend.file-a.cfg", "path=data/a\nfsync=never\n");
        signalbox.configure("etc/io.signalbox.backend.file-b.cfg", "path=data/b\nfsync=never\n");
        String routeX = "etc/io.signalbox.route-x.cfg";
        signalbox.configure(routeX, route("load-x", "a"));
        signalbox.configure("etc/io.signalbox.backend.webhook-hook.cfg",
                "url=http://127.0.0.1:" + server.getAddress().getPort() + "/in\n");
        signalbox.configure("etc/io.signalbox.route-w.cfg", route("load-w", "hook"));

        signalbox.start();

        AtomicIntegerArray sent = new AtomicIntegerArray(CONNECTIONS);
        ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
        List<Future<?>> senders = new ArrayList<>();
        try {
            for (int c = 0; c < CONNECTIONS; c++) {
                int connection = c + 1;
                senders.add(clients.submit(() -> {
                    send(connection, sent);
                    return null;
                }));
            }
            // the operator's actions, paced by how far connection 1 got (no wall-clock assumptions)
            awaitSent(sent, 0.05);
            Files.copy(jar, deploy.resolve(jar.getFileName()));
            LOG.info("webhook bundle copied into deploy/");
            awaitSent(sent, 0.15);
            signalbox.configure(routeX, route("load-x", "b"));
            LOG.info("route x → b");
            awaitSent(sent, 0.30);
            signalbox.configure(routeX, route("load-x", "a"));
            LOG.info("route x → a");
            awaitSent(sent, 0.40);
            signalbox.configure("etc/live.yaml", """
                    backends:
                      yb:
                        type: file
                        path: "%s"
                        fsync: never
                    routing:
                      load-y:
                        - {backend: yb}
                    """.formatted(home.resolve("data/yaml")));
            LOG.info("live.yaml dropped into etc/");
            awaitSent(sent, 0.55);
            Path deployed = deploy.resolve(jar.getFileName());
            Files.copy(jar, deployed, StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(deployed, FileTime.from(Instant.now().plusSeconds(5)));
            LOG.info("webhook bundle updated in deploy/ (newer timestamp)");
            awaitSent(sent, 0.75);
            Files.delete(deployed);
            LOG.info("webhook bundle removed from deploy/");
            for (Future<?> f : senders) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            clients.shutdownNow();
        }
        // while the webhook is away its messages are kept on disk under data/spool/<backend>
        Path spool = home.resolve("data/spool/hook");
        assertThat(Installation.poll(Duration.ofSeconds(30), () -> {
            try {
                return !Installation.filesUnder(spool).isEmpty();
            } catch (IOException e) {
                return false;
            }
        })).as("spool files under %s while the webhook bundle is removed", spool).isTrue();
        // what was kept for the webhook while it was away is delivered once it is back
        Files.copy(jar, deploy.resolve(jar.getFileName()));
        LOG.info("webhook bundle copied into deploy/ again");
        boolean complete = Installation.poll(DELIVERY_TIMEOUT, () -> webhookCount() >= PER_CONNECTION);
        assertThat(complete).as("all %d load-w messages reached the webhook (got %d); log:\n%s", PER_CONNECTION,
                webhookCount(), logExcerpt()).isTrue();

        signalbox.stop();

        Map<String, List<Long>> files = new HashMap<>();
        for (String backend : List.of("files", "a", "b", "yaml")) {
            files.put(backend, keys(home.resolve("data").resolve(backend)));
        }
        LOG.info("delivered: files={} a={} b={} yaml={} webhook={}", files.get("files").size(), files.get("a").size(),
                files.get("b").size(), files.get("yaml").size(), webhookCount());

        // the operator's changes really happened while the load ran (routing and YAML log them)
        String log = signalbox.log();
        assertThat(count(log, "backend hook bound")).as("webhook bound at deploy, update and redeploy").isGreaterThanOrEqualTo(3);
        assertThat(count(log, "backend hook unbound")).as("webhook unbound at update and removal").isGreaterThanOrEqualTo(2);
        assertThat(log).as("the YAML file's backend came up").contains("backend yb bound");

        // load-x: a, then b, then a again; nothing on the default route
        assertSegments("load-x", 1, Map.of("a", files.get("a"), "b", files.get("b"), "files", files.get("files")),
                List.of("a", "b", "a"));
        // load-y: the default route until the YAML route took over
        assertSegments("load-y", 2, Map.of("files", files.get("files"), "yaml", files.get("yaml"), "a", files.get("a")),
                List.of("files", "yaml"));
        // load-w: the webhook, exactly once and in order, across deploy, update, removal and redeploy
        List<Long> hook;
        synchronized (webhookReceipts) {
            hook = new ArrayList<>(webhookReceipts);
        }
        assertSegments("load-w", 3, Map.of("hook", hook, "files", files.get("files")), List.of("hook"));
        assertThat(hook).as("load-w order on the webhook").isSorted();
        // load-z: the default route throughout
        assertSegments("load-z", 4, Map.of("files", files.get("files"), "a", files.get("a"), "yaml", files.get("yaml")),
                List.of("files"));
    }

    // --- helpers -----------------------------------------------------------------------

    private static String route(String source, String backend) {
        return "source=\"" + source + "\"\nbackends=[\"" + backend + "\"]\n";
    }

    /** {@value #PER_CONNECTION} events of one source, {@value #LINES_PER_TICK} every 10 ms, then a half-close. */
    private void send(int connection, AtomicIntegerArray sent) throws IOException {
        String src = SOURCES[connection - 1];
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = socket.getOutputStream();
            long next = System.nanoTime();
            for (int seq = 0; seq < PER_CONNECTION; ) {
                StringBuilder b = new StringBuilder(LINES_PER_TICK * 130);
                for (int i = 0; i < LINES_PER_TICK && seq < PER_CONNECTION; i++, seq++) {
                    b.append("{\"v\":1,\"src\":\"").append(src).append("\",\"ts\":").append(1_763_900_000_000L + seq)
                            .append(",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"e2e-")
                            .append(connection).append('-').append(seq).append("\"}}\n");
                }
                out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
                sent.set(connection - 1, seq);
                next += TimeUnit.MILLISECONDS.toNanos(10);
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            Installation.halfCloseAndAwaitClose(socket, Duration.ofMinutes(2), "connection " + connection);
        }
        LOG.info("connection {} ({}): {} messages sent", connection, src, PER_CONNECTION);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private int webhookCount() {
        synchronized (webhookReceipts) {
            return webhookReceipts.size();
        }
    }

    private void awaitSent(AtomicIntegerArray sent, double fraction) {
        int target = (int) (PER_CONNECTION * fraction);
        assertThat(Installation.poll(Duration.ofMinutes(2), () -> sent.get(0) >= target))
                .as("connection 1 sent %d messages", target).isTrue();
    }

    /**
     * Every message of {@code connection} appears exactly once over the backends, and in send
     * order the backends that took them form exactly {@code expected} (runs collapsed).
     */
    private void assertSegments(String source, int connection, Map<String, List<Long>> byBackend, List<String> expected) {
        String[] where = new String[PER_CONNECTION];
        List<String> duplicates = new ArrayList<>();
        for (Map.Entry<String, List<Long>> e : byBackend.entrySet()) {
            long previous = -1;
            List<String> outOfOrder = new ArrayList<>();
            for (long key : e.getValue()) {
                if (key / 1_000_000L != connection) {
                    continue;
                }
                int seq = (int) (key % 1_000_000L);
                if (where[seq] != null && duplicates.size() < 5) {
                    duplicates.add(seq + " on " + where[seq] + " and " + e.getKey());
                }
                where[seq] = e.getKey();
                if (seq <= previous && outOfOrder.size() < 5) {
                    outOfOrder.add(seq + " after " + previous);
                }
                previous = seq;
            }
            assertThat(outOfOrder).as("%s order on %s", source, e.getKey()).isEmpty();
        }
        assertThat(duplicates).as("%s messages delivered twice", source).isEmpty();
        List<Integer> missing = new ArrayList<>();
        List<String> runs = new ArrayList<>();
        for (int seq = 0; seq < PER_CONNECTION; seq++) {
            if (where[seq] == null) {
                if (missing.size() < 5) {
                    missing.add(seq);
                }
                continue;
            }
            if (runs.isEmpty() || !runs.get(runs.size() - 1).equals(where[seq])) {
                runs.add(where[seq]);
            }
        }
        assertThat(missing).as("%s messages not delivered anywhere (first ones); log:\n%s", source, logExcerpt()).isEmpty();
        assertThat(runs).as("%s: backends in send order", source).containsExactlyElementsOf(expected);
    }

    /** conn*1_000_000+seq of every line in every file under {@code root}, files in path order. */
    private static List<Long> keys(Path root) throws IOException {
        List<Long> keys = new ArrayList<>();
        Installation.forEachLine(root, line -> {
            Matcher m = KEY.matcher(line);
            if (m.find()) {
                keys.add(Long.parseLong(m.group(1)) * 1_000_000L + Long.parseLong(m.group(2)));
            }
        });
        return keys;
    }

    /** Log lines about drops, rejections, errors and the operator's changes (for failure messages). */
    private String logExcerpt() {
        return Installation.excerpt(signalbox.log(), "drop", "route ", "backend ", "yaml");
    }
}
