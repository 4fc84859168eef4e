package io.signalbox.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

import io.signalbox.api.SpanNode;
import io.signalbox.api.StatsSource;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;

/**
 * The real bundles wired by SCR and Config Admin: TCP transport → correlation → routing →
 * file backend, configured the way an operator's {@code etc/} files configure them.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class PipelineIT {
    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static int port;

    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = 5000)
    ConfigurationAdmin configAdmin;

    private final List<Configuration> created = new ArrayList<>();
    private Path dir;

    @BeforeEach
    void configurePipeline() throws Exception {
        dir = Files.createTempDirectory("signalbox-it");
        if (port == 0) {
            // transport, correlation and routing spool, shared with the other test classes
            port = Sidecar.configureOnce(configAdmin);
        }
        waitUntil("TCP transport listening on " + port, PipelineIT::portOpen);
    }

    @AfterEach
    void deleteConfigurations() throws IOException {
        for (Configuration c : created) {
            c.delete();
        }
    }

    @Test
    void messagesTravelFromTcpToJsonlFilesAndBadLinesAreCountedNotFatal() throws Exception {
        backend("it1", dir);
        route("it1", Map.of("source", "it-src-*", "backends", new String[] {"it1"}));
        long malformedBefore = stat("signalbox_messages_dropped_total{reason=\"malformed\"}");
        long tooLongBefore = stat("signalbox_messages_dropped_total{reason=\"too_long\"}");

        List<String> expected = new ArrayList<>();
        StringBuilder wire = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            String src = i % 2 == 0 ? "it-src-a" : "it-src-b";
            String line = event(src, i, "info", "message " + i);
            expected.add(line);
            wire.append(line).append('\n');
            if (i % 100 == 7) {
                wire.append("{this is not json\n");
                wire.append('{').append("\"v\":1,\"pad\":\"").append("x".repeat(70_000)).append("\"}\n");
            }
        }
        send(wire.toString());

        waitUntil("1000 lines in files", () -> lines(dir).size() >= 1000);
        List<String> written = lines(dir);
        assertThat(written).containsExactlyInAnyOrderElementsOf(expected);
        for (String src : List.of("it-src-a", "it-src-b")) {
            List<String> inFile = lines(dir.resolve(src));
            assertThat(inFile).as("order of %s", src)
                    .containsExactlyElementsOf(expected.stream().filter(l -> l.contains("\"" + src + "\"")).collect(Collectors.toList()));
        }
        assertThat(stat("signalbox_messages_dropped_total{reason=\"malformed\"}") - malformedBefore).isEqualTo(10);
        assertThat(stat("signalbox_messages_dropped_total{reason=\"too_long\"}") - tooLongBefore).isEqualTo(10);
    }

    @Test
    void routesSelectBackendsByGlobTypesAndDefault() throws Exception {
        Path metricsDir = dir.resolve("metrics");
        Path allDir = dir.resolve("all");
        backend("metrics", metricsDir);
        backend("all", allDir);
        route("queues", Map.of("source", "queue-*", "backends", new String[] {"metrics"}, "types", new String[] {"metric"}));
        route("fallback", Map.of("source", "default", "backends", new String[] {"all"}));
        long unroutedBefore = stat("signalbox_messages_unrouted_total");

        String queueMetric = metric("queue-7", 1, "depth", 42);
        String queueEvent = event("queue-7", 2, "info", "taken by the glob route, filtered out by its types");
        String webEvent = event("web", 3, "info", "nobody else takes web: default route");
        send(queueMetric + "\n" + queueEvent + "\n" + webEvent + "\n");

        waitUntil("metric and default lines written", () -> lines(metricsDir).size() >= 1 && lines(allDir).size() >= 1);
        assertThat(lines(metricsDir)).containsExactly(queueMetric);
        assertThat(lines(allDir)).containsExactly(webEvent);
        waitUntil("filtered event counted as unrouted", () -> stat("signalbox_messages_unrouted_total") - unroutedBefore == 1);
    }

    @Test
    void messagesForABackendThatArrivesLaterWaitAndAreDelivered() throws Exception {
        Path lateDir = dir.resolve("late");
        route("late", Map.of("source", "late-src", "backends", new String[] {"late"}));
        List<String> expected = new ArrayList<>();
        StringBuilder wire = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            String line = event("late-src", i, i == 4 ? "error" : "info", "before the backend exists " + i);
            expected.add(line);
            wire.append(line).append('\n');
        }
        send(wire.toString());
        waitUntil("channel waiting for backend", () -> stat("signalbox_channel_waiting_for_backend{backend=\"late\"}") == 1);
        assertThat(Files.exists(lateDir)).isFalse();

        backend("late", lateDir);
        waitUntil("held messages delivered", () -> lines(lateDir).size() == 5);
        assertThat(lines(lateDir)).containsExactlyElementsOf(expected);
    }

    @Test
    void traceStoreBuildsTheSpanTreeAcrossSources() throws Exception {
        backend("traces", dir);
        route("traces", Map.of("source", "svc-*", "backends", new String[] {"traces"}));
        String tid = "trace-" + System.nanoTime();
        send(span("svc-a", tid, "root", null, "handle request", 1000, 1900) + "\n"
                + span("svc-b", tid, "child-1", "root", "query db", 1100, 1300) + "\n"
                + span("svc-a", tid, "child-2", "root", "render", 1400, 1800) + "\n"
                + span("svc-b", tid, "grandchild", "child-1", "parse", 1150, 1200) + "\n");

        TraceStore store = service(TraceStore.class);
        waitUntil("trace with 4 spans", () -> store.trace(tid).map(t -> t.spanCount() == 4).orElse(false));
        Trace trace = store.trace(tid).orElseThrow();
        assertThat(trace.sources()).containsExactlyInAnyOrder("svc-a", "svc-b");
        assertThat(trace.roots()).hasSize(1);
        SpanNode root = trace.roots().get(0);
        assertThat(root.spanId()).isEqualTo("root");
        assertThat(root.children()).extracting(SpanNode::spanId).containsExactly("child-1", "child-2");
        assertThat(root.children().get(0).children()).extracting(SpanNode::spanId).containsExactly("grandchild");
        assertThat(store.recent(10)).anySatisfy(s -> assertThat(s.traceId()).isEqualTo(tid));
        // delivered before the route goes: otherwise the spans wait (no route) and reach the next test's default route
        waitUntil("4 spans written", () -> lines(dir).size() == 4);
    }

    // --- helpers -----------------------------------------------------------------------

    private static String event(String src, long i, String level, String msg) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_700_000_000_000L + i)
                + ",\"type\":\"event\",\"ctx\":{\"job_id\":\"j-" + i + "\"},\"data\":{\"level\":\"" + level
                + "\",\"msg\":\"" + msg + "\"}}";
    }

    private static String metric(String src, long i, String name, double value) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_700_000_000_000L + i)
                + ",\"type\":\"metric\",\"data\":{\"name\":\"" + name + "\",\"value\":" + value + ",\"unit\":\"items\"}}";
    }

    private static String span(String src, String tid, String sid, String pid, String name, long start, long end) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + end + ",\"type\":\"span\",\"tid\":\"" + tid
                + "\",\"sid\":\"" + sid + "\"" + (pid == null ? "" : ",\"pid\":\"" + pid + "\"")
                + ",\"data\":{\"name\":\"" + name + "\",\"status\":\"ok\",\"start\":" + start + ",\"end\":" + end + "}}";
    }

    private void backend(String name, Path path) throws IOException {
        Configuration c = configAdmin.getFactoryConfiguration("io.signalbox.backend.file", name, "?");
        created.add(c);
        update(c, Map.of("path", path.toString(), "fsync", "never"));
    }

    private void route(String name, Map<String, Object> props) throws IOException {
        Configuration c = configAdmin.getFactoryConfiguration("io.signalbox.route", name, "?");
        created.add(c);
        update(c, props);
    }

    private static void update(Configuration c, Map<String, ?> props) throws IOException {
        Dictionary<String, Object> d = new Hashtable<>();
        props.forEach(d::put);
        c.update(d);
    }

    private <T> T service(Class<T> type) {
        ServiceReference<T> ref = context.getServiceReference(type);
        assertThat(ref).as("service %s", type.getName()).isNotNull();
        return context.getService(ref);
    }

    /** Sum of a series over every StatsSource (each series has one owner). */
    private long stat(String key) {
        try {
            long sum = 0;
            for (ServiceReference<StatsSource> ref : context.getServiceReferences(StatsSource.class, null)) {
                StatsSource s = context.getService(ref);
                if (s != null) {
                    Number n = s.stats().get(key);
                    sum += n == null ? 0 : n.longValue();
                    context.ungetService(ref);
                }
            }
            return sum;
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void send(String text) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    private static List<String> lines(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<String> all = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().collect(Collectors.toList())) {
                all.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
            }
            return all;
        } catch (IOException e) {
            return List.of(); // a file being rotated or created right now: the caller polls again
        }
    }

    private static boolean portOpen() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out after " + DEADLINE.toSeconds() + " s waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

}
