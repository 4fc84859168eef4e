package io.signalbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MonitoringTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    private LineServer server() throws IOException {
        LineServer s = new LineServer(0).start();
        cleanup.add(s);
        return s;
    }

    private Monitoring.Builder builder(int port) {
        return Monitoring.builder().source("t").host("127.0.0.1").port(port).closeOnShutdown(false);
    }

    private Monitoring track(Monitoring m) {
        cleanup.add(0, m);
        return m;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static List<Map<String, Object>> parsed(LineServer s, String type) {
        return s.lines().stream().map(MiniJson::object).filter(m -> type.equals(m.get("type"))).toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(Map<String, Object> m) {
        return (Map<String, Object>) m.get("data");
    }

    @Test
    void withoutASidecarCallsNeitherBlockNorThrowAndTheExcessOverTheBufferIsCounted() throws IOException {
        Monitoring m = track(builder(closedPort()).bufferSize(1000).closeTimeout(Duration.ofMillis(200)).build());
        for (int i = 0; i < 10_000; i++) {
            m.logEvent("info", "x" + i);
        }
        assertThat(m.dropped()).isEqualTo(9_000);
        assertThat(m.buffered()).isEqualTo(1_000);
        assertThat(m.state()).isEqualTo(Monitoring.State.OVERFLOW);
        long start = System.nanoTime();
        m.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close gives up after its timeout")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(m.dropped()).as("what close could not deliver counts as dropped").isEqualTo(10_000);
        assertThat(m.sent()).isZero();
    }

    @Test
    void helloComesFirstOnEveryConnectionAndNamesTheSdkAndToken() throws IOException {
        LineServer s = server();
        Monitoring m = track(builder(s.port()).token("secret-1").build());
        m.logEvent("info", "x");
        m.close();
        assertThat(s.awaitLine(l -> l.contains("goodbye"), TIMEOUT)).isTrue();
        Map<String, Object> hello = MiniJson.object(s.lines().get(0));
        assertThat(hello).containsEntry("type", "hello").containsEntry("src", "t").doesNotContainKeys("tid", "ctx");
        assertThat(data(hello)).containsEntry("sdk", "java").containsEntry("version", Monitoring.SDK_VERSION)
                .containsEntry("token", "secret-1");
    }

    @Test
    void aFailedSpanScopeEndsWithErrorAndTheReasonAndAttributes() throws IOException {
        LineServer s = server();
        Monitoring m = track(builder(s.port()).build());
        try (Span span = m.startSpan("parse")) {
            span.attr("file", "a.csv");
            span.fail(new IllegalStateException("bad header"));
        }
        try (Span ok = m.startSpan("load")) {
            ok.attr("rows", 3);
        }
        m.close();
        assertThat(s.awaitLine(l -> l.contains("goodbye"), TIMEOUT)).isTrue();
        List<Map<String, Object>> spans = parsed(s, "span");
        assertThat(spans).hasSize(2);
        assertThat(data(spans.get(0))).containsEntry("name", "parse").containsEntry("status", "error")
                .containsEntry("attrs", Map.of("file", "a.csv", "error", "java.lang.IllegalStateException: bad header"));
        assertThat(data(spans.get(1))).containsEntry("status", "ok").containsEntry("attrs", Map.of("rows", BigDecimal.valueOf(3)));
        Map<String, Object> d = data(spans.get(0));
        assertThat(((BigDecimal) d.get("end")).compareTo((BigDecimal) d.get("start"))).isGreaterThanOrEqualTo(0);
        assertThat((BigDecimal) d.get("dur_ms")).isNotNegative();
    }

    @Test
    void spansNestPerThreadSoAnotherThreadsSpanIsNotTheParent() throws Exception {
        LineServer s = server();
        Monitoring m = track(builder(s.port()).build());
        m.setContext("job_id", "job-t");
        Span outer = m.startSpan("outer");
        String[] other = new String[2];
        Thread t = new Thread(() -> {
            try (Span span = m.startSpan("other-thread")) {
                other[0] = span.id();
                other[1] = span.parentId();
            }
        });
        t.start();
        t.join();
        outer.close();
        assertThat(other[1]).as("a span on another thread is a root of the same job's trace").isNull();
        m.close();
        assertThat(s.awaitLine(l -> l.contains("goodbye"), TIMEOUT)).isTrue();
        assertThat(parsed(s, "span")).allSatisfy(sp -> assertThat(sp).containsEntry("tid", "job-t"));
    }

    @Test
    void childEnvironmentAndPropagateToPassTheTraceToAChildProcess() {
        Monitoring m = track(Monitoring.builder().source("p").port(1).closeOnShutdown(false)
                .environment(Map.of("SIGNALBOX_TRACE", "job-1:1111111111111111")).closeTimeout(Duration.ofMillis(50)).build());
        try (Span span = m.startSpan("run")) {
            ProcessBuilder pb = new ProcessBuilder("true");
            pb.environment().put("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
            m.propagateTo(pb);
            assertThat(pb.environment()).containsEntry("SIGNALBOX_TRACE", "job-1:" + span.id())
                    .doesNotContainKey("TRACEPARENT");
            assertThat(span.parentId()).isEqualTo("1111111111111111");
        }
        assertThat(m.childEnvironment()).containsOnly(Map.entry("SIGNALBOX_TRACE", "job-1:1111111111111111"));
    }

    @Test
    void aLineLongerThanTheLimitIsDroppedAndCountedAndTheNextOneArrives() throws IOException {
        LineServer s = server();
        Monitoring m = track(builder(s.port()).maxLineBytes(1024).build());
        m.logEvent("info", "x".repeat(2000));
        m.logEvent("info", "ü".repeat(600)); // 1,200 bytes in UTF-8
        m.logEvent("info", "small");
        m.close();
        assertThat(s.awaitLine(l -> l.contains("goodbye"), TIMEOUT)).isTrue();
        assertThat(parsed(s, "event")).singleElement().satisfies(e -> assertThat(data(e)).containsEntry("msg", "small"));
        assertThat(m.dropped()).isEqualTo(2);
        assertThat(m.sent()).isEqualTo(1);
    }

    @Test
    void concurrentCallersLoseNothingWithinTheBufferAndEachThreadsOrderIsKept() throws Exception {
        LineServer s = server();
        int threads = 4;
        int each = 5_000;
        Monitoring m = track(builder(s.port()).bufferSize(threads * each).closeTimeout(Duration.ofSeconds(30)).build());
        Concurrently.join(Concurrently.start(threads, id -> {
            for (int i = 0; i < each; i++) {
                m.logEvent("info", id + ":" + i);
            }
        }));
        m.close();
        assertThat(s.awaitLine(l -> l.contains("goodbye"), TIMEOUT)).isTrue();
        Map<Integer, Integer> next = new HashMap<>();
        int count = 0;
        for (Map<String, Object> e : parsed(s, "event")) {
            String[] parts = ((String) data(e).get("msg")).split(":");
            int id = Integer.parseInt(parts[0]);
            int seq = Integer.parseInt(parts[1]);
            assertThat(seq).as("thread %d", id).isEqualTo(next.getOrDefault(id, 0));
            next.put(id, seq + 1);
            count++;
        }
        assertThat(count).isEqualTo(threads * each);
        assertThat(m.dropped()).isZero();
    }

    @Test
    void theBuilderRejectsOutOfRangeSettingsNamingTheSettingAndTheValue() {
        Monitoring.Builder b = Monitoring.builder();
        assertThatThrownBy(() -> b.port(0)).hasMessage("port must be 1..65535: 0");
        assertThatThrownBy(() -> b.port(65536)).hasMessage("port must be 1..65535: 65536");
        assertThatThrownBy(() -> b.bufferSize(0)).hasMessage("bufferSize must be at least 1: 0");
        assertThatThrownBy(() -> b.maxLineBytes(255)).hasMessage("maxLineBytes must be at least 256: 255");
        assertThatThrownBy(() -> b.connectTimeout(Duration.ZERO)).hasMessage("connectTimeout must be positive: PT0S");
        b.port(65535).bufferSize(1).maxLineBytes(256);
    }

    @Test
    void nullOptionalArgumentsAreOmittedAndNullLevelOrMessageStillMakeAValidEvent() throws IOException {
        LineServer s = server();
        Monitoring m = track(builder(s.port()).build());
        m.logProgress("job-1", 12.5, null);
        m.logMetric("m", 2.0, null, Map.of());
        m.logEvent(null, null, Map.of());
        m.close();
        assertThat(s.awaitLine(l -> l.contains("goodbye"), TIMEOUT)).isTrue();
        assertThat(s.lines()).noneMatch(l -> l.contains("null"));
        assertThat(data(parsed(s, "progress").get(0))).containsOnlyKeys("job_id", "percent");
        assertThat(data(parsed(s, "metric").get(0))).containsOnlyKeys("name", "value");
        assertThat(data(parsed(s, "event").get(0))).containsEntry("level", "info").containsEntry("msg", "")
                .containsOnlyKeys("level", "msg");
    }

    @Test
    void configurationComesFromTheEnvironmentWhenNotGivenAndABadPortFallsBackToTheDefault() throws IOException {
        LineServer s = server();
        Monitoring m = track(Monitoring.builder().closeOnShutdown(false)
                .environment(Map.of("SIGNALBOX_SOURCE", "env-src", "SIGNALBOX_HOST", "127.0.0.1",
                        "SIGNALBOX_PORT", Integer.toString(s.port())))
                .build());
        assertThat(m.source()).isEqualTo("env-src");
        m.logEvent("info", "x");
        assertThat(s.awaitLine(l -> l.contains("\"msg\":\"x\""), TIMEOUT)).isTrue();
        Monitoring other = track(Monitoring.builder().closeOnShutdown(false).closeTimeout(Duration.ofMillis(10))
                .environment(Map.of("SIGNALBOX_PORT", "not-a-port")).build());
        assertThat(other.source()).as("default source: the main class's simple name").isNotBlank();
    }
}
