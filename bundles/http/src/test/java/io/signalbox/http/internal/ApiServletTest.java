package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.HistogramSample;
import io.signalbox.api.RouteInfo;
import io.signalbox.http.internal.ApiTestFakes.FakeRouter;

/** /api/backends, /api/routes and /api/sources against fake services, through a real servlet container. */
class ApiServletTest {
    private final SidecarServices services = new SidecarServices();
    private final ApiServlet servlet = new ApiServlet(services);
    private final FakeRouter router = new FakeRouter();
    private ApiTestServer server;

    @BeforeEach
    void start() throws Exception {
        server = ApiTestServer.of(servlet, ApiServlet.BACKENDS, ApiServlet.ROUTES, ApiServlet.SOURCES);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void backendsListsEveryBackendOfTheRouterWithItsState() throws Exception {
        services.router = router;
        router.backends = List.of(ApiTestFakes.backend("files", BackendStatus.State.UP),
                new BackendStatus("db", null, BackendStatus.State.WAITING_FOR_BUNDLE, 0, 10, 2048, 10, 0, 0, 0, 0));

        HttpResponse<String> r = server.get("/api/backends");

        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Object> doc = ApiTestJson.object(r.body());
        assertThat(doc).containsOnlyKeys("backends");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> backends = (List<Map<String, Object>>) doc.get("backends");
        assertThat(backends).hasSize(2);
        Map<String, Object> db = new LinkedHashMap<>();
        db.put("name", "db");
        db.put("kind", null);
        db.put("state", "waiting_for_bundle");
        db.put("queued_messages", 0L);
        db.put("spool_messages", 10L);
        db.put("spool_bytes", 2048L);
        db.put("routed_messages", 10L);
        db.put("written_messages", 0L);
        db.put("write_failures", 0L);
        db.put("dead_letter_messages", 0L);
        db.put("spool_dropped_messages", 0L);
        assertThat(backends.get(1)).isEqualTo(db);
    }

    @Test
    void routesListTheTableInForceWithItsOrigin() throws Exception {
        services.router = router;
        router.routes = List.of(
                new RouteInfo("audit", "billing-*", List.of("db", "files"), Set.of("metric", "event"), true, 10, false,
                        "etc/io.signalbox.route-audit.cfg"),
                new RouteInfo("everything", "*", List.of("files"), Set.of(), false, 0, true, "code"));

        HttpResponse<String> r = server.get("/api/routes");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiTestJson.object(r.body())).isEqualTo(Map.of("routes", List.of(
                Map.of("name", "audit", "source", "billing-*", "backends", List.of("db", "files"),
                        "types", List.of("event", "metric"), "enabled", true, "priority", 10L, "global", false,
                        "origin", "etc/io.signalbox.route-audit.cfg"),
                Map.of("name", "everything", "source", "*", "backends", List.of("files"), "types", List.of(),
                        "enabled", false, "priority", 0L, "global", true, "origin", "code"))));
    }

    @Test
    void sourcesGatherThePerSourceSeriesOfEveryStatsSourceByName() throws Exception {
        HistogramSample h = new HistogramSample(new double[] { 1 }, new long[] { 1, 1 }, 3);
        services.statsSources = List.of(TypicalSeries.service("io.signalbox.correlation", sink -> {
            sink.counter("signalbox_messages_received_total", 12, "source", "loader");
            sink.gauge("signalbox_buffer_size", 3, "source", "loader");
            sink.counter("signalbox_messages_received_total", 1, "source", "a \"quoted\" one");
            sink.gauge("signalbox_sources_active", 2);
            sink.counter("signalbox_batches_flushed_total", 5, "reason", "size");
        }), TypicalSeries.service("other", sink -> {
            sink.gauge("signalbox_source_last_seen_seconds", 1.5, "source", "loader");
            sink.gauge("signalbox_something", 1, "source", "x", "backend", "y");
            sink.histogram("signalbox_source_seconds", h, "source", "loader");
            sink.counter("signalbox_messages_received_total", 3, "source", "loader");
        }), TypicalSeries.service("broken", sink -> {
            throw new IllegalStateException("broken on purpose");
        }));

        HttpResponse<String> r = server.get("/api/sources");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiTestJson.object(r.body())).isEqualTo(Map.of("sources", List.of(
                Map.of("name", "a \"quoted\" one", "received_total", 1L, "buffered", 0L),
                Map.of("name", "loader", "received_total", 15L, "buffered", 3L, "source_last_seen_seconds", 1.5))));
    }

    @Test
    void sourcesIsAnEmptyListWithoutStatsSourcesAndDoesNotNeedTheRouter() throws Exception {
        HttpResponse<String> r = server.get("/api/sources");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiTestJson.object(r.body())).isEqualTo(Map.of("sources", List.of()));
    }

    @Test
    void backendsAndRoutesAre503WithoutARouter() throws Exception {
        for (String path : List.of("/api/backends", "/api/routes")) {
            HttpResponse<String> r = server.get(path);

            assertThat(r.statusCode()).as(path).isEqualTo(503);
            assertThat(ApiTestJson.object(r.body())).as(path).containsEntry("error", "the router is not running");
        }
    }

    @Test
    void anyMethodButGetAndHeadIs405() throws Exception {
        services.router = router;

        server.assertNotAllowed("DELETE", "/api/routes", "GET, HEAD");

        HttpResponse<String> head = server.send(HttpRequest.newBuilder(server.uri("/api/routes"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }
}
