package io.signalbox.itests;

import static io.signalbox.itests.Sidecar.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * /health, the /api endpoints and HTTP ingest of the real io.signalbox.http bundle, served by Felix
 * HTTP (Jetty 12) in the framework, in front of the real pipeline: a message posted over HTTP
 * arrives in the file backend's files like one sent over TCP.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class HttpApiIT {
    private static final String HTTP_PID = "io.signalbox.http";

    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = 5000)
    ConfigurationAdmin configAdmin;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Sidecar sidecar;
    private Path dir;
    private String base;

    @BeforeEach
    void setUp() throws Exception {
        sidecar = new Sidecar(context, configAdmin);
        dir = Files.createTempDirectory("signalbox-http-api-it");
        base = serve();
    }

    @AfterEach
    void tearDown() throws IOException {
        sidecar.deleteCreated();
    }

    /**
     * The HTTP server's base URI: where an earlier test class put it, else on a free port (through
     * Config Admin PID io.signalbox.http, as etc/io.signalbox.http.cfg sets it); waits until
     * /health answers there.
     */
    private String serve() throws Exception {
        Configuration c = configAdmin.getConfiguration(HTTP_PID, "?");
        Dictionary<String, Object> props = c.getProperties();
        int port = props != null && props.get("port") instanceof Number n ? n.intValue() : Sidecar.freePort();
        Sidecar.update(c, Map.of("host", "127.0.0.1", "port", port, "ingest.max.bytes", 100_000L));
        String uri = "http://127.0.0.1:" + port;
        waitUntil("/health answering on port " + port, () -> status(get(uri + "/health")) > 0);
        return uri;
    }

    @Test
    void healthIsUpWithTheFileBackendAndDegradedWhileARouteWaitsForAMissingBackend() throws Exception {
        sidecar.fileBackend("hapi", dir);
        sidecar.route("hapi", Map.of("source", "hapi-src", "backends", new String[] {"hapi"}));
        waitUntil("/health listing backend hapi as up", () -> {
            HttpResponse<String> r = get(base + "/health");
            return status(r) == 200 && r.body().contains("\"name\":\"hapi\",\"kind\":\"file\",\"state\":\"up\"");
        });
        HttpResponse<String> up = get(base + "/v1/health");
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(up.body()).startsWith("{\"status\":\"").contains("\"uptime_seconds\":", "\"connections\":",
                "\"sources\":", "\"last_config_error\":", "\"config_errors\":");

        sidecar.route("hapi-missing", Map.of("source", "hapi-src", "backends", new String[] {"hapi-nowhere"}));
        sidecar.send(Sidecar.event("hapi-src", "wait", 1));

        waitUntil("/health degraded, hapi-nowhere waiting for its bundle", () -> {
            HttpResponse<String> r = get(base + "/health");
            return status(r) == 200 && r.body().startsWith("{\"status\":\"degraded\"")
                    && r.body().contains("\"name\":\"hapi-nowhere\",\"kind\":null,\"state\":\"waiting_for_bundle\"");
        });
        HttpResponse<String> backends = get(base + "/api/backends");
        assertThat(backends.statusCode()).isEqualTo(200);
        assertThat(backends.body()).startsWith("{\"backends\":[").contains("\"name\":\"hapi-nowhere\"",
                "\"name\":\"hapi\"");
        HttpResponse<String> routes = get(base + "/api/routes");
        assertThat(routes.body()).contains("\"source\":\"hapi-src\",\"backends\":[\"hapi-nowhere\"]",
                "\"origin\":\"configuration io.signalbox.route~hapi-missing\"");
    }

    @Test
    void messagesPostedOverHttpArriveInTheFileBackendAndBadOnesAreCountedLikeOnTcp() throws Exception {
        sidecar.fileBackend("hingest", dir);
        sidecar.route("hingest", Map.of("source", "hapi-ingest", "backends", new String[] {"hingest"}));
        long missingBefore = sidecar.stat("signalbox_messages_dropped_total{reason=\"missing_field\"}");
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
        assertThat(sidecar.stat("signalbox_messages_dropped_total{reason=\"missing_field\"}")).isEqualTo(missingBefore + 1);
        assertThat(sidecar.stat("signalbox_transport_messages_received_total{transport=\"http\"}")).isGreaterThanOrEqualTo(5);

        HttpResponse<String> sources = get(base + "/api/sources");
        assertThat(sources.statusCode()).isEqualTo(200);
        assertThat(sources.body()).contains("{\"name\":\"hapi-ingest\",\"received_total\":5,\"buffered\":");
        sidecar.awaitPipelineIdle();
    }

    @Test
    void badRequestsGetTheirStatusInTheFramework() throws Exception {
        HttpResponse<String> empty = post("/v1/event", "");
        HttpResponse<String> malformed = post("/v1/event", "{\"v\":1,");
        HttpResponse<String> tooBig = post("/v1/events/batch", "x".repeat(100_001));
        HttpResponse<String> wrongMethod = get(base + "/v1/event");

        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("\"reason\":\"malformed\"");
        assertThat(tooBig.statusCode()).isEqualTo(413);
        assertThat(tooBig.body()).isEqualTo("{\"error\":\"request body larger than ingest.max.bytes=100000\"}");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
        assertThat(get(base + "/api/routes").headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The answer, or {@code null} if nothing answered. */
    private HttpResponse<String> get(String uri) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static int status(HttpResponse<String> r) {
        return r == null ? -1 : r.statusCode();
    }
}
