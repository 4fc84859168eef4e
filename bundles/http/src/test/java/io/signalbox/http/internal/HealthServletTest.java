package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.FakeIngest;
import io.signalbox.api.StatsSource;
import io.signalbox.http.internal.ApiTestFakes.FakeRouter;

/** /health and /v1/health against fake services, through a real servlet container. */
class HealthServletTest {
    private final SidecarServices services = new SidecarServices();
    private final HealthServlet servlet = new HealthServlet(services);
    private final FakeRouter router = new FakeRouter();
    private final Map.Entry<Map<String, ?>, StatsSource> tcp = TypicalSeries.service(HealthServlet.TCP_COMPONENT,
            sink -> sink.gauge(HealthServlet.TCP_CONNECTIONS, 3));
    private final Map.Entry<Map<String, ?>, StatsSource> correlation = TypicalSeries.service(
            "io.signalbox.correlation", sink -> {
                sink.gauge(HealthServlet.SOURCES, 2);
                sink.gauge("signalbox_pipeline_inflight", 9);
            });
    private ApiTestServer server;

    @BeforeEach
    void start() throws Exception {
        server = ApiTestServer.of(servlet, "/health", "/v1/health");
        // everything a healthy sidecar has
        services.router = router;
        services.ingest = new FakeIngest();
        services.statsSources = List.of(tcp, correlation);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private Map<String, Object> health(int expectedStatus) throws IOException, InterruptedException {
        HttpResponse<String> r = server.get("/health");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expectedStatus);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        return ApiTestJson.object(r.body());
    }

    /** The bound sources with {@code extra} added and {@code gone} removed. */
    private void sources(List<Map.Entry<Map<String, ?>, StatsSource>> extra, Map.Entry<Map<String, ?>, StatsSource> gone) {
        List<Map.Entry<Map<String, ?>, StatsSource>> now = new ArrayList<>(services.statsSources);
        now.remove(gone);
        now.addAll(extra);
        services.statsSources = now;
    }

    @Test
    void upWith200WhenEverythingIsThereAndEveryBackendIsUp() throws Exception {
        router.backends = List.of(ApiTestFakes.backend("files", BackendStatus.State.UP));

        Map<String, Object> h = health(200);

        assertThat(h).containsOnlyKeys("status", "uptime_seconds", "connections", "sources", "backends",
                "last_config_error", "config_errors");
        assertThat(h).containsEntry("status", "up").containsEntry("connections", 3L).containsEntry("sources", 2L);
        assertThat((Long) h.get("uptime_seconds")).isGreaterThanOrEqualTo(0L);
        assertThat((List<?>) h.get("backends")).singleElement().isEqualTo(Map.ofEntries(Map.entry("name", "files"),
                Map.entry("kind", "file"), Map.entry("state", "up"), Map.entry("queued_messages", 1L),
                Map.entry("spool_messages", 2L), Map.entry("spool_bytes", 3L), Map.entry("routed_messages", 4L),
                Map.entry("written_messages", 8L), Map.entry("write_failures", 5L), Map.entry("dead_letter_messages", 6L),
                Map.entry("spool_dropped_messages", 7L)));
    }

    @Test
    void v1HealthAnswersTheSameDocument() throws Exception {
        HttpResponse<String> r = server.get("/v1/health");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(ApiTestJson.object(r.body())).containsEntry("status", "up");
    }

    @Test
    void degradedWith200WhenABackendIsNotUpAndEachStateHasItsWireName() throws Exception {
        router.backends = List.of(ApiTestFakes.backend("files", BackendStatus.State.UP),
                ApiTestFakes.backend("db", BackendStatus.State.BREAKER_OPEN),
                ApiTestFakes.backend("s3", BackendStatus.State.WAITING_FOR_BUNDLE),
                ApiTestFakes.backend("hook", BackendStatus.State.DEGRADED));

        Map<String, Object> h = health(200);

        assertThat(h).containsEntry("status", "degraded");
        assertThat(ApiTestJson.objects(h.get("backends"))).extracting(b -> b.get("state"))
                .containsExactly("up", "breaker_open", "waiting_for_bundle", "degraded");
    }

    @Test
    void downWith503WhenTheRouterOrIngestIsMissing() throws Exception {
        services.router = null;
        assertThat(health(503)).containsEntry("status", "down").containsEntry("backends", List.of());

        services.router = router;
        services.ingest = null;
        assertThat(health(503)).containsEntry("status", "down");
    }

    @Test
    void downWith503WhenTheTcpTransportIsNotListening() throws Exception {
        sources(List.of(), tcp);

        assertThat(health(503)).containsEntry("status", "down").containsEntry("connections", 0L);
    }

    @Test
    void connectionsAreSummedFromTheActiveConnectionsSeries() throws Exception {
        sources(List.of(TypicalSeries.service("other", sink -> sink.gauge(HealthServlet.CONNECTIONS, 4)),
                TypicalSeries.service(HealthServlet.TCP_COMPONENT, sink -> {
                    sink.gauge(HealthServlet.CONNECTIONS, 5);
                    sink.gauge(HealthServlet.TCP_CONNECTIONS, 5);
                })), tcp);

        assertThat(health(200)).containsEntry("connections", 9L);
    }

    @Test
    void aFailingStatsSourceCountsAsPublishingNothing() throws Exception {
        sources(List.of(Map.entry(Map.of(), sink -> {
            sink.gauge(HealthServlet.CONNECTIONS, 100);
            throw new IllegalStateException("broken on purpose");
        })), null);

        assertThat(health(200)).containsEntry("status", "up").containsEntry("connections", 3L);
    }

    @Test
    void lastConfigErrorAndTheirCountComeFromConfigCheck() throws Exception {
        long before = ConfigCheck.rejectionCount();
        String message = ConfigCheck.rejection("io.signalbox.healthtest", Map.of(), "'prot' is not a key");

        Map<String, Object> h = health(200);

        assertThat((Long) h.get("config_errors")).isGreaterThanOrEqualTo(before + 1);
        Map<String, Object> last = ApiTestJson.objects(List.of(h.get("last_config_error"))).get(0);
        assertThat(last).containsOnlyKeys("at", "pid", "message").containsEntry("pid", "io.signalbox.healthtest")
                .containsEntry("message", message);
        assertThat((String) last.get("at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
    }

    @Test
    void postIsAnswered405WithAllow() throws Exception {
        server.assertNotAllowed("POST", "/health", "GET, HEAD");
    }
}
