package io.signalbox.itests;

import static io.signalbox.itests.Http.status;
import static io.signalbox.itests.Sidecar.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * /health, the /api endpoints and HTTP ingest of the real io.signalbox.http bundle, served by Felix
 * HTTP (Jetty 12) in the framework, in front of the real pipeline: a message posted over HTTP
 * arrives in the file backend's files like one sent over TCP.
 */
class HttpApiIT extends SidecarTest {
    private final Http http = new Http();
    private String base;

    /**
     * The HTTP server where an earlier test class put it, else on a free port; waits until
     * /health answers there.
     */
    @BeforeEach
    void serve() throws Exception {
        base = Http.serve(configAdmin, Http.configuredPortOrFree(configAdmin), Map.of("ingest.max.bytes", 100_000L));
        waitUntil("/health answering at " + base, () -> status(http.get(base + "/health")) > 0);
    }

    @Test
    void healthIsUpWithTheFileBackendAndDegradedWhileARouteWaitsForAMissingBackend() throws Exception {
        sidecar.fileBackend("hapi", dir);
        sidecar.route("hapi", Map.of("source", "hapi-src", "backends", new String[] {"hapi"}));
        waitUntil("/health listing backend hapi as up", () -> {
            HttpResponse<String> r = http.get(base + "/health");
            return status(r) == 200 && r.body().contains("\"name\":\"hapi\",\"kind\":\"file\",\"state\":\"up\"");
        });
        HttpResponse<String> up = http.get(base + "/v1/health");
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(up.body()).startsWith("{\"status\":\"").contains("\"uptime_seconds\":", "\"connections\":",
                "\"sources\":", "\"last_config_error\":", "\"config_errors\":");

        sidecar.route("hapi-missing", Map.of("source", "hapi-src", "backends", new String[] {"hapi-nowhere"}));
        sidecar.send(Sidecar.event("hapi-src", "wait", 1));

        waitUntil("/health degraded, hapi-nowhere waiting for its bundle", () -> {
            HttpResponse<String> r = http.get(base + "/health");
            return status(r) == 200 && r.body().startsWith("{\"status\":\"degraded\"")
                    && r.body().contains("\"name\":\"hapi-nowhere\",\"kind\":null,\"state\":\"waiting_for_bundle\"");
        });
        HttpResponse<String> backends = http.get(base + "/api/backends");
        assertThat(backends.statusCode()).isEqualTo(200);
        assertThat(backends.body()).startsWith("{\"backends\":[").contains("\"name\":\"hapi-nowhere\"",
                "\"name\":\"hapi\"");
        HttpResponse<String> routes = http.get(base + "/api/routes");
        assertThat(routes.body()).contains("\"source\":\"hapi-src\",\"backends\":[\"hapi-nowhere\"]",
                "\"origin\":\"configuration io.signalbox.route~hapi-missing\"");
    }

    @Test
    void messagesPostedOverHttpArriveInTheFileBackendAndBadOnesAreCountedLikeOnTcp() throws Exception {
        sidecar.fileBackend("hingest", dir);
        sidecar.route("hingest", Map.of("source", "hapi-ingest", "backends", new String[] {"hingest"}));
        long missingBefore = sidecar.stat("signalbox_messages_dropped_total", "reason", "missing_field");
        String bad = "{\"v\":1,\"src\":\"hapi-ingest\",\"type\":\"event\",\"data\":{}}";

        HttpResponse<String> batch = post("/v1/events/batch", "[\n" + Sidecar.event("hapi-ingest", "http", 1) + ",\n"
                + bad + ",\n" + Sidecar.event("hapi-ingest", "http", 2) + "\n]");
        HttpResponse<String> lines = post("/v1/events/batch",
                Sidecar.event("hapi-ingest", "http", 3) + "\r\n" + Sidecar.event("hapi-ingest", "http", 4) + "\r\n");
        HttpResponse<String> one = post("/v1/event", Sidecar.event("hapi-ingest", "http", 5));

        assertThat(batch.statusCode()).isEqualTo(202);
        assertThat(batch.body()).isEqualTo("{\"accepted\":2,\"rejected\":1,\"errors\":[{\"index\":1,"
                + "\"reason\":\"missing_field\",\"detail\":\"missing field 'ts'\"}]}");
        assertThat(lines.statusCode()).isEqualTo(202);
        assertThat(one.statusCode()).isEqualTo(202);
        waitUntil("5 posted messages in the files of backend hingest", () -> Sidecar.lines(dir).size() >= 5);
        assertThat(Sidecar.lines(dir)).containsExactly(Sidecar.event("hapi-ingest", "http", 1),
                Sidecar.event("hapi-ingest", "http", 2), Sidecar.event("hapi-ingest", "http", 3),
                Sidecar.event("hapi-ingest", "http", 4), Sidecar.event("hapi-ingest", "http", 5));
        assertThat(sidecar.stat("signalbox_messages_dropped_total", "reason", "missing_field")).isEqualTo(missingBefore + 1);
        assertThat(sidecar.stat("signalbox_transport_messages_received_total", "transport", "http")).isGreaterThanOrEqualTo(5);

        HttpResponse<String> sources = http.get(base + "/api/sources");
        assertThat(sources.statusCode()).isEqualTo(200);
        assertThat(sources.body()).contains("{\"name\":\"hapi-ingest\",\"received_total\":5,\"buffered\":");
        sidecar.awaitPipelineIdle();
    }

    @Test
    void badRequestsGetTheirStatusInTheFramework() throws Exception {
        HttpResponse<String> empty = post("/v1/event", "");
        HttpResponse<String> malformed = post("/v1/event", "{\"v\":1,");
        HttpResponse<String> tooBig = post("/v1/events/batch", "x".repeat(100_001));
        HttpResponse<String> wrongMethod = http.get(base + "/v1/event");

        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("\"reason\":\"malformed\"");
        assertThat(tooBig.statusCode()).isEqualTo(413);
        assertThat(tooBig.body()).isEqualTo("{\"error\":\"request body larger than ingest.max.bytes=100000\"}");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
        assertThat(http.get(base + "/api/routes").headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.post(base + path, body);
    }
}
