package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.StatsSource;
import io.signalbox.http.internal.ApiTestFakes.FakeIngest;
import io.signalbox.http.internal.ApiTestFakes.FakeRouter;

/** /health and /v1/health against fake services, through a real servlet container. */
class HealthServletTest {
    private final HealthServlet servlet = new HealthServlet();
    private final FakeRouter router = new FakeRouter();
    private final FakeIngest ingest = new FakeIngest();
    private final StatsSource tcp = () -> Map.of(HealthServlet.TCP_CONNECTIONS, 3);
    private final StatsSource correlation = () -> Map.of(HealthServlet.SOURCES, 2L, "signalbox_pipeline_inflight", 9);
    private ApiTestServer server;

    @BeforeEach
    void start() throws Exception {
        server = ApiTestServer.of(servlet, "/health", "/v1/health");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /** Binds everything a healthy sidecar has. */
    private void bindAll() {
        servlet.bindRouter(router);
        servlet.bindIngest(ingest);
        servlet.bindStatsSource(tcp, Map.of("component.name", HealthServlet.TCP_COMPONENT));
        servlet.bindStatsSource(correlation, Map.of("component.name", "io.signalbox.correlation"));
    }

    @Test
    void upWith200WhenEverythingIsThereAndEveryBackendIsUp() throws Exception {
        bindAll();
        router.backends = List.of(ApiTestFakes.backend("files", BackendStatus.State.UP));

        HttpResponse<String> r = server.get("/health");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        Map<String, Object> h = ApiTestJson.object(r.body());
        assertThat(h).containsOnlyKeys("status", "uptime_seconds", "connections", "sources", "backends",
                "last_config_error", "config_errors");
        assertThat(h).containsEntry("status", "up").containsEntry("connections", 3L).containsEntry("sources", 2L);
        assertThat((Long) h.get("uptime_seconds")).isGreaterThanOrEqualTo(0L);
        assertThat((List<?>) h.get("backends")).singleElement().isEqualTo(Map.of("name", "files", "kind", "file",
                "state", "up", "queued_messages", 1L, "spool_messages", 2L, "spool_bytes", 3L, "routed_messages", 4L,
                "write_failures", 5L, "dead_letter_messages", 6L, "spool_dropped_messages", 7L));
    }

    @Test
    void v1HealthAnswersTheSameDocument() throws Exception {
        bindAll();

        HttpResponse<String> r = server.get("/v1/health");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiTestJson.object(r.body())).containsEntry("status", "up");
    }

    @Test
    void degradedWith200WhenABackendIsNotUpAndEachStateHasItsWireName() throws Exception {
        bindAll();
        router.backends = List.of(ApiTestFakes.backend("files", BackendStatus.State.UP),
                ApiTestFakes.backend("db", BackendStatus.State.BREAKER_OPEN),
                ApiTestFakes.backend("s3", BackendStatus.State.WAITING_FOR_BUNDLE),
                ApiTestFakes.backend("hook", BackendStatus.State.DEGRADED));

        HttpResponse<String> r = server.get("/health");

        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Object> h = ApiTestJson.object(r.body());
        assertThat(h).containsEntry("status", "degraded");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> backends = (List<Map<String, Object>>) h.get("backends");
        assertThat(backends).extracting(b -> b.get("state"))
                .containsExactly("up", "breaker_open", "waiting_for_bundle", "degraded");
    }

    @Test
    void downWith503WhenTheRouterIsMissing() throws Exception {
        bindAll();
        servlet.unbindRouter(router);

        HttpResponse<String> r = server.get("/health");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(ApiTestJson.object(r.body())).containsEntry("status", "down").containsEntry("backends", List.of());
    }

    @Test
    void downWith503WhenIngestIsMissing() throws Exception {
        bindAll();
        servlet.unbindIngest(ingest);

        assertThat(server.get("/health").statusCode()).isEqualTo(503);
    }

    @Test
    void downWith503WhenTheTcpTransportIsNotListening() throws Exception {
        bindAll();
        servlet.unbindStatsSource(tcp);

        HttpResponse<String> r = server.get("/health");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(ApiTestJson.object(r.body())).containsEntry("status", "down").containsEntry("connections", 0L);
    }

    @Test
    void connectionsAreSummedFromTheActiveConnectionsSeries() throws Exception {
        bindAll();
        servlet.bindStatsSource(() -> Map.of(HealthServlet.CONNECTIONS, 4), Map.of("component.name", "other"));
        servlet.unbindStatsSource(tcp);
        servlet.bindStatsSource(() -> Map.of(HealthServlet.CONNECTIONS, 5, HealthServlet.TCP_CONNECTIONS, 5),
                Map.of("component.name", HealthServlet.TCP_COMPONENT));

        assertThat(ApiTestJson.object(server.get("/health").body())).containsEntry("connections", 9L);
    }

    @Test
    void aFailingStatsSourceCountsAsPublishingNothing() throws Exception {
        bindAll();
        servlet.bindStatsSource(() -> {
            throw new IllegalStateException("broken on purpose");
        }, Map.of());

        HttpResponse<String> r = server.get("/health");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiTestJson.object(r.body())).containsEntry("status", "up").containsEntry("connections", 3L);
    }

    @Test
    void lastConfigErrorAndTheirCountComeFromConfigCheck() throws Exception {
        bindAll();
        long before = ConfigCheck.rejectionCount();
        String message = ConfigCheck.rejection("io.signalbox.healthtest", Map.of(), "'prot' is not a key");

        Map<String, Object> h = ApiTestJson.object(server.get("/health").body());

        assertThat((Long) h.get("config_errors")).isGreaterThanOrEqualTo(before + 1);
        @SuppressWarnings("unchecked")
        Map<String, Object> last = (Map<String, Object>) h.get("last_config_error");
        assertThat(last).containsOnlyKeys("at", "pid", "message").containsEntry("pid", "io.signalbox.healthtest")
                .containsEntry("message", message);
        assertThat((String) last.get("at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
    }

    @Test
    void postIsAnswered405WithAllow() throws Exception {
        bindAll();

        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/health"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")));

        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(ApiTestJson.object(r.body())).containsKey("error");
    }
}
