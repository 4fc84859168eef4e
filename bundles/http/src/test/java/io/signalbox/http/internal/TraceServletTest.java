package io.signalbox.http.internal;

import static io.signalbox.http.internal.ApiTestJson.list;
import static io.signalbox.http.internal.ApiTestJson.map;
import static io.signalbox.http.internal.ApiTestJson.object;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;
import io.signalbox.api.SpanNode;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceSource;
import io.signalbox.api.TraceStore;
import io.signalbox.api.TraceSummary;

/** {@code /api/traces/{id}} and {@code /api/traces?…} over real HTTP, against a fake trace store. */
class TraceServletTest {
    private final FakeStore store = new FakeStore();
    private TraceServlet servlet;
    private ApiTestServer http;

    @BeforeEach
    void start() throws Exception {
        servlet = new TraceServlet(config(Map.of()), Map.of());
        servlet.store = store;
        http = ApiTestServer.of(servlet, TraceServlet.LIST, TraceServlet.ONE);
    }

    @AfterEach
    void stop() throws Exception {
        http.close();
    }

    @Test
    void aTraceIsATreeWithDurationsEventsMetricsAndAPerSourceSummary() throws Exception {
        store.traces.put("job-12345", jobTrace());

        HttpResponse<String> r = http.get("/api/traces/job-12345");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        Map<String, Object> t = object(r.body());
        assertThat(t).containsEntry("trace_id", "job-12345").containsEntry("span_count", 3L)
                .containsEntry("message_count", 6L).containsEntry("duration_ms", 47_700L)
                .containsEntry("first_seen", 1_000L).containsEntry("last_seen", 48_700L)
                .containsEntry("sources", List.of("file-receiver", "queue-service", "db-loader"));
        assertThat(list(t.get("by_source"))).hasSize(3).first().isEqualTo(Map.of("source", "file-receiver",
                "spans", 1L, "messages", 3L, "start", 1_000L, "end", 3_300L, "duration_ms", 2_300L));
        assertThat(list(t.get("events"))).singleElement()
                .satisfies(e -> assertThat(map(e)).containsEntry("type", "event")
                        .containsEntry("data", Map.of("level", "warn", "msg", "no span")));

        Map<String, Object> root = map(list(t.get("roots")).get(0));
        assertThat(root).containsEntry("span_id", "r").containsEntry("parent_span_id", null)
                .containsEntry("source", "file-receiver").containsEntry("name", "receive")
                .containsEntry("status", "ok").containsEntry("open", false).containsEntry("start", 1_000L)
                .containsEntry("end", 3_300L).containsEntry("duration_ms", 2_300L).containsEntry("events_cut", 4L);
        Map<String, Object> event = map(list(root.get("events")).get(0));
        assertThat(event).containsEntry("ts", 1_100L).containsEntry("source", "file-receiver")
                .containsEntry("type", "event");
        assertThat(map(event.get("data"))).containsEntry("msg", "got \"orders.csv\"")
                .containsEntry("ctx", Map.of("file", "orders.csv", "n", List.of(1L, 2.5, true)));
        Map<String, Object> metric = map(list(root.get("metrics")).get(0));
        assertThat(metric.get("data")).isEqualTo(Map.of("name", "bytes", "value", 1200L, "unit", "B"));

        Map<String, Object> queue = map(list(root.get("children")).get(0));
        assertThat(queue).containsEntry("span_id", "q").containsEntry("duration_ms", 100L);
        Map<String, Object> load = map(list(queue.get("children")).get(0));
        assertThat(load).containsEntry("span_id", "l").containsEntry("duration_ms", 45_200L)
                .containsEntry("children", List.of());
    }

    @Test
    void anOpenSpanSaysSoAndHasNoName() throws Exception {
        SpanNode open = new SpanNode("w", null, "worker", new SpanInfo(null, SpanNode.OPEN, 5, 9), List.of(),
                List.of(event("worker", 5, "{\"v\":1,\"data\":{\"msg\":\"busy\"}}")), List.of(), 0, 0);
        store.traces.put("t", new Trace("t", List.of(open), 0, 1, Set.of("worker"), 5, 9));

        Map<String, Object> span = map(list(object(http.get("/api/traces/t").body()).get("roots")).get(0));

        assertThat(span).containsEntry("open", true).containsEntry("status", "open").containsEntry("name", null);
    }

    @Test
    void anUnknownTraceIs404WithAnError() throws Exception {
        HttpResponse<String> r = http.get("/api/traces/nope");

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(object(r.body()).get("error").toString()).startsWith("no trace nope");
    }

    @Test
    void aChainThousandsOfSpansDeepIsWrittenWhole() throws Exception {
        int depth = 5_000;
        SpanNode node = null;
        for (int i = depth - 1; i >= 0; i--) {
            node = new SpanNode("s" + i, i == 0 ? null : "s" + (i - 1), "a", new SpanInfo("n", "ok", i, i + 1),
                    node == null ? List.of() : List.of(node));
        }
        store.traces.put("deep", new Trace("deep", List.of(node), depth, depth, Set.of("a"), 0, depth));

        HttpResponse<String> r = http.get("/api/traces/deep");

        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Object> n = map(list(object(r.body()).get("roots")).get(0));
        int seen = 1;
        while (!list(n.get("children")).isEmpty()) {
            n = map(list(n.get("children")).get(0));
            seen++;
        }
        assertThat(seen).isEqualTo(depth);
        assertThat(n).containsEntry("span_id", "s" + (depth - 1));
    }

    @Test
    void theListIsNewestFirstAndFiltersBySourceSinceAndLimit() throws Exception {
        store.recent.add(new TraceSummary("t3", 1, 2, 300, 390, List.of("web", "db")));
        store.recent.add(new TraceSummary("t2", 0, 1, 200, 200, List.of("batch")));
        store.recent.add(new TraceSummary("t1", 2, 5, 100, 150, List.of("web")));

        Map<String, Object> all = object(http.get("/api/traces").body());
        assertThat(list(all.get("traces"))).extracting(t -> map(t).get("trace_id")).containsExactly("t3", "t2", "t1");
        assertThat(map(list(all.get("traces")).get(0))).isEqualTo(Map.of("trace_id", "t3", "span_count", 1L,
                "message_count", 2L, "sources", List.of("web", "db"), "first_seen", 300L, "last_seen", 390L));

        assertThat(ids("/api/traces?source=web")).containsExactly("t3", "t1");
        assertThat(ids("/api/traces?since=200")).containsExactly("t3", "t2");
        assertThat(ids("/api/traces?since=1970-01-01T00:00:00.250Z")).containsExactly("t3");
        assertThat(ids("/api/traces?source=web&limit=1")).containsExactly("t3");
        assertThat(ids("/api/traces/")).containsExactly("t3", "t2", "t1");
    }

    @Test
    void badListParametersAre400WithTheReason() throws Exception {
        for (String q : List.of("limit=0", "limit=ten", "limit=1001", "since=yesterday")) {
            HttpResponse<String> r = http.get("/api/traces?" + q);
            assertThat(r.statusCode()).as(q).isEqualTo(400);
            assertThat(object(r.body()).get("error").toString()).as(q).containsAnyOf("limit must", "since must");
        }
    }

    @Test
    void otherMethodsAre405AndHeadHasNoBody() throws Exception {
        http.assertNotAllowed("POST", "/api/traces/x", "GET, HEAD");

        store.traces.put("x", new Trace("x", List.of(), 0, 1, Set.of("a"), 1, 1));
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(http.uri("/api/traces/x"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void withoutTheTraceStoreTheAnswerIs503() throws Exception {
        servlet.store = null;

        HttpResponse<String> r = http.get("/api/traces/x");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(object(r.body()).get("error").toString()).contains("trace store");
    }

    @Test
    void aConfigurationWithAnUnknownKeyOrAZeroLimitIsRejected() {
        assertThatThrownBy(() -> new TraceServlet(config(Map.of("list.max.limt", 5)),
                Map.of("list.max.limt", 5, "osgi.http.whiteboard.servlet.pattern", "/api/traces")))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("list.max.limit");
        assertThatThrownBy(() -> new TraceServlet(config(Map.of("list.default.limit", 0)),
                Map.of("list.default.limit", 0))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'list.default.limit' must be >= 1, is 0");
        assertThat(TraceServlet.Settings.of(config(Map.of()), Map.of("osgi.http.whiteboard.servlet.pattern", "/x")))
                .isEqualTo(new TraceServlet.Settings(50, 1000));
    }

    @Test
    void aValidChangeAppliesToTheNextRequestAndARejectedOneIsCountedAndChangesNothing() throws Exception {
        Map<String, Object> two = Map.of("list.max.limit", 2);
        servlet.modified(config(two), two);
        assertThat(http.get("/api/traces?limit=3").statusCode()).isEqualTo(400);

        long before = ConfigCheck.rejectionCount();
        Map<String, Object> bad = Map.of("list.max.limit", 0, "service.pid", TraceServlet.PID);
        servlet.modified(config(bad), bad);

        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(ConfigCheck.lastRejection()).hasValueSatisfying(r -> assertThat(r.message())
                .isEqualTo("configuration io.signalbox.http.traces rejected: 'list.max.limit' must be >= 1, is 0"));
        assertThat(http.get("/api/traces?limit=2").statusCode()).isEqualTo(200);
        assertThat(http.get("/api/traces?limit=3").statusCode()).isEqualTo(400);
    }

    private List<Object> ids(String path) throws Exception {
        HttpResponse<String> r = http.get(path);
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return list(object(r.body()).get("traces")).stream().map(t -> map(t).get("trace_id")).toList();
    }

    /** file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s. */
    static Trace jobTrace() {
        SpanNode load = new SpanNode("l", "q", "db-loader", new SpanInfo("load", "ok", 3_500, 48_700), List.of());
        SpanNode queue = new SpanNode("q", "r", "queue-service", new SpanInfo("enqueue", "ok", 3_300, 3_400),
                List.of(load));
        SpanNode root = new SpanNode("r", null, "file-receiver", new SpanInfo("receive", "ok", 1_000, 3_300),
                List.of(queue),
                List.of(event("file-receiver", 1_100, "{\"v\":1,\"src\":\"file-receiver\",\"ts\":1100,\"type\":\"event\","
                        + "\"data\":{\"level\":\"info\",\"msg\":\"got \\\"orders.csv\\\"\",\"ctx\":{\"file\":\"orders.csv\","
                        + "\"n\":[1,2.5,true]}}}")),
                List.of(new Message("file-receiver", 1_200, MessageType.METRIC, "job-12345", "r", null, null, null,
                        bytes("{\"v\":1,\"type\":\"metric\",\"data\":{\"name\":\"bytes\",\"value\":1200,\"unit\":\"B\"}}"))),
                4, 0);
        List<TraceSource> bySource = List.of(new TraceSource("file-receiver", 1, 3, 1_000, 3_300),
                new TraceSource("queue-service", 1, 1, 3_300, 3_400), new TraceSource("db-loader", 1, 2, 3_500, 48_700));
        return new Trace("job-12345", List.of(root), 3, 6, Set.of("file-receiver", "queue-service", "db-loader"),
                1_000, 48_700, bySource,
                List.of(event("db-loader", 40_000, "{\"v\":1,\"data\":{\"level\":\"warn\",\"msg\":\"no span\"}}")),
                List.of(), 0, 0);
    }

    static Message event(String source, long ts, String line) {
        return new Message(source, ts, MessageType.EVENT, "t", null, null, "info", null, bytes(line));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static TraceServlet.Config config(Map<String, ?> props) {
        return Converters.standardConverter().convert(props).to(TraceServlet.Config.class);
    }

    /** A trace store holding what a test put in. */
    static final class FakeStore implements TraceStore {
        final Map<String, Trace> traces = new HashMap<>();
        final List<TraceSummary> recent = new ArrayList<>();

        @Override
        public Optional<Trace> trace(String traceId) {
            return Optional.ofNullable(traces.get(traceId));
        }

        @Override
        public List<TraceSummary> recent(int limit) {
            return recent.subList(0, Math.min(limit, recent.size()));
        }

        @Override
        public int size() {
            return traces.size();
        }
    }
}
