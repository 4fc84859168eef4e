package io.signalbox.itests;

import static io.signalbox.itests.Sidecar.lines;
import static io.signalbox.itests.Sidecar.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceReference;

import io.signalbox.api.SpanNode;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;

/**
 * The real bundles wired by SCR and Config Admin: TCP transport → correlation → routing →
 * file backend, configured the way an operator's {@code etc/} files configure them.
 */
class PipelineIT extends SidecarTest {
    @Test
    void messagesTravelFromTcpToJsonlFilesAndBadLinesAreCountedNotFatal() throws Exception {
        sidecar.fileBackend("it1", dir);
        sidecar.route("it1", Map.of("source", "it-src-*", "backends", new String[] {"it1"}));
        long malformedBefore = dropped("malformed");
        long tooLongBefore = dropped("too_long");

        List<String> expected = new ArrayList<>();
        List<String> wire = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String src = i % 2 == 0 ? "it-src-a" : "it-src-b";
            String line = event(src, i, "info", "message " + i);
            expected.add(line);
            wire.add(line);
            if (i % 100 == 7) {
                wire.add("{this is not json");
                wire.add("{\"v\":1,\"pad\":\"" + "x".repeat(70_000) + "\"}");
            }
        }
        sidecar.send(wire.toArray(String[]::new));

        waitUntil("1000 lines in files", () -> lines(dir).size() >= 1000);
        List<String> written = lines(dir);
        assertThat(written).containsExactlyInAnyOrderElementsOf(expected);
        for (String src : List.of("it-src-a", "it-src-b")) {
            List<String> inFile = lines(dir.resolve(src));
            assertThat(inFile).as("order of %s", src)
                    .containsExactlyElementsOf(expected.stream().filter(l -> l.contains("\"" + src + "\"")).collect(Collectors.toList()));
        }
        assertThat(dropped("malformed") - malformedBefore).isEqualTo(10);
        assertThat(dropped("too_long") - tooLongBefore).isEqualTo(10);
    }

    @Test
    void routesSelectBackendsByGlobTypesAndDefault() throws Exception {
        Path metricsDir = fileBackend("metrics");
        Path allDir = fileBackend("all");
        sidecar.route("queues", Map.of("source", "queue-*", "backends", new String[] {"metrics"}, "types", new String[] {"metric"}));
        sidecar.route("fallback", Map.of("source", "default", "backends", new String[] {"all"}));
        long unroutedBefore = sidecar.unrouted();

        String queueMetric = metric("queue-7", 1, "depth", 42);
        String queueEvent = event("queue-7", 2, "info", "taken by the glob route, filtered out by its types");
        String webEvent = event("web", 3, "info", "nobody else takes web: default route");
        sidecar.send(queueMetric, queueEvent, webEvent);

        waitUntil("metric and default lines written", () -> lines(metricsDir).size() >= 1 && lines(allDir).size() >= 1);
        assertThat(lines(metricsDir)).containsExactly(queueMetric);
        assertThat(lines(allDir)).containsExactly(webEvent);
        waitUntil("filtered event counted as unrouted", () -> sidecar.unrouted() - unroutedBefore == 1);
    }

    @Test
    void messagesForABackendThatArrivesLaterWaitAndAreDelivered() throws Exception {
        Path lateDir = dir.resolve("late");
        sidecar.route("late", Map.of("source", "late-src", "backends", new String[] {"late"}));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            expected.add(event("late-src", i, i == 4 ? "error" : "info", "before the backend exists " + i));
        }
        sidecar.send(expected.toArray(String[]::new));
        waitUntil("channel waiting for backend",
                () -> sidecar.stat("signalbox_channel_waiting_for_backend", "backend", "late") == 1);
        assertThat(Files.exists(lateDir)).isFalse();

        sidecar.fileBackend("late", lateDir);
        waitUntil("held messages delivered", () -> lines(lateDir).size() == 5);
        assertThat(lines(lateDir)).containsExactlyElementsOf(expected);
    }

    @Test
    void traceStoreBuildsTheSpanTreeAcrossSources() throws Exception {
        sidecar.fileBackend("traces", dir);
        sidecar.route("traces", Map.of("source", "svc-*", "backends", new String[] {"traces"}));
        String tid = "trace-" + System.nanoTime();
        sidecar.send(span("svc-a", tid, "root", null, "handle request", 1000, 1900),
                span("svc-b", tid, "child-1", "root", "query db", 1100, 1300),
                span("svc-a", tid, "child-2", "root", "render", 1400, 1800),
                span("svc-b", tid, "grandchild", "child-1", "parse", 1150, 1200));

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

    private <T> T service(Class<T> type) {
        ServiceReference<T> ref = context.getServiceReference(type);
        assertThat(ref).as("service %s", type.getName()).isNotNull();
        return context.getService(ref);
    }

    private long dropped(String reason) {
        return sidecar.stat("signalbox_messages_dropped_total", "reason", reason);
    }
}
