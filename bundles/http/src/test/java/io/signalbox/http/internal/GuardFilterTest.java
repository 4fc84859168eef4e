package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.ConfigValues;
import io.signalbox.api.MetricSamples;
import io.signalbox.protocol.AuthStats;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** The guard in front of a real Jetty: what reaches the servlets and what is refused. */
class GuardFilterTest {
    private static final String READ = "read-secret-0123456789abcdef";
    private static final String WRITE = "write-secret-0123456789abcdef";

    /** Records what got through. */
    private final List<String> reached = new CopyOnWriteArrayList<>();
    private final HttpServlet servlet = new HttpServlet() {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            reached.add("GET " + req.getRequestURI());
            ApiJson.send(resp, 200, "{}".getBytes());
        }

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            reached.add("POST " + req.getRequestURI());
            ApiJson.send(resp, 202, "{}".getBytes());
        }
    };
    private ApiTestServer server;
    private GuardFilter guard;

    private void start(Map<String, Object> props) throws Exception {
        HttpServerComponent.Config c = Converters.standardConverter().convert(props).to(HttpServerComponent.Config.class);
        HttpServerComponent.Settings s = HttpServerComponent.Settings.of(c, props);
        guard = new GuardFilter(s.guard());
        Map<HttpServlet, String[]> servlets = new LinkedHashMap<>();
        servlets.put(servlet, new String[] { "/v1/event", "/api/traces", "/api/v1/query", "/health" });
        server = new ApiTestServer(servlets, guard);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> post(String contentType, String origin, String bearer) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/v1/event"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"v\":1}"));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return server.send(b);
    }

    private String rawGet(String path, String host) throws IOException {
        return server.raw("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", null);
    }

    private long refused(String reason) {
        return (long) MetricSamples.of(guard).value(GuardFilter.REFUSED, "reason", reason);
    }

    @Test
    void aPagesTextPlainPostFromAForeignOriginIsRefused() throws Exception {
        start(Map.of());

        HttpResponse<String> r = post("text/plain", "http://evil.example", null);

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("web origin");
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(reached).isEmpty();
        assertThat(refused("origin")).isEqualTo(1);
    }

    @Test
    void onlyJsonAndNdjsonBodiesAreAccepted() throws Exception {
        start(Map.of());

        assertThat(post("text/plain", null, null).statusCode()).isEqualTo(415);
        assertThat(post("application/x-www-form-urlencoded", null, null).statusCode()).isEqualTo(415);
        assertThat(post("multipart/form-data; boundary=x", null, null).statusCode()).isEqualTo(415);
        assertThat(post(null, null, null).statusCode()).isEqualTo(415);
        assertThat(reached).isEmpty();
        assertThat(refused("content_type")).isEqualTo(4);

        assertThat(post("application/json", null, null).statusCode()).isEqualTo(202);
        assertThat(post("application/json; charset=utf-8", null, null).statusCode()).isEqualTo(202);
        assertThat(post("application/x-ndjson", null, null).statusCode()).isEqualTo(202);
        assertThat(reached).hasSize(3);
    }

    @Test
    void aForeignHostIsRefusedTheLocalFormsAreNot() throws Exception {
        start(Map.of("allowed.hosts", new String[] { "sidecar.internal" }));

        assertThat(rawGet("/api/traces", "evil.example")).startsWith("HTTP/1.1 421");
        assertThat(rawGet("/api/traces", "evil.example:" + server.port())).startsWith("HTTP/1.1 421");
        assertThat(reached).isEmpty();
        assertThat(rawGet("/api/traces", "127.0.0.1:" + server.port())).startsWith("HTTP/1.1 200");
        assertThat(rawGet("/api/traces", "localhost:" + server.port())).startsWith("HTTP/1.1 200");
        assertThat(rawGet("/api/traces", "[::1]:" + server.port())).startsWith("HTTP/1.1 200");
        assertThat(rawGet("/api/traces", "sidecar.internal")).startsWith("HTTP/1.1 200");
        assertThat(refused("host")).isEqualTo(2);
    }

    @Test
    void sameOriginRequestsPassAndCorsIsOnlyForConfiguredOrigins() throws Exception {
        start(Map.of("cors.origins", new String[] { "https://dash.example.com" }));

        assertThat(post("application/json", "http://127.0.0.1:" + server.port(), null).statusCode()).isEqualTo(202);
        HttpResponse<String> cors = post("application/json", "https://dash.example.com", null);
        assertThat(cors.statusCode()).isEqualTo(202);
        assertThat(cors.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://dash.example.com");
        HttpResponse<String> preflight = server.send(HttpRequest.newBuilder(server.uri("/v1/event"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://dash.example.com").header("Access-Control-Request-Method", "POST"));
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("")).contains("Authorization");
        assertThat(post("application/json", "https://other.example.com", null).statusCode()).isEqualTo(403);
    }

    @Test
    void separateReadAndWriteSecrets() throws Exception {
        start(Map.of("auth.read.secret", READ, "auth.write.secret", WRITE));

        HttpResponse<String> anonymous = post("application/json", null, null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"signalbox\"");
        assertThat(post("application/json", null, READ).statusCode()).as("the read secret cannot write").isEqualTo(401);
        assertThat(post("application/json", null, WRITE).statusCode()).isEqualTo(202);

        HttpRequest.Builder get = HttpRequest.newBuilder(server.uri("/api/traces")).GET();
        assertThat(server.send(get).statusCode()).isEqualTo(401);
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/api/traces")).header("Authorization", "Bearer " + WRITE)
                .GET()).statusCode()).as("the write secret cannot read").isEqualTo(401);
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/api/traces")).header("Authorization", "Bearer " + READ)
                .GET()).statusCode()).isEqualTo(200);
        assertThat(server.send(HttpRequest.newBuilder(server.uri("/health")).GET()).statusCode())
                .as("health probes need no secret").isEqualTo(200);

        MetricSamples m = MetricSamples.of(guard);
        assertThat((long) m.value(AuthStats.SERIES, "transport", "http", "reason", "no_secret")).isEqualTo(2);
        assertThat((long) m.value(AuthStats.SERIES, "transport", "http", "reason", "bad_secret")).isEqualTo(2);
        assertThat(reached).containsExactly("POST /v1/event", "GET /api/traces", "GET /health");
    }

    @Test
    void aFormPostToThePrometheusApiIsAReadNeedingTheReadSecret() throws Exception {
        start(Map.of("auth.read.secret", READ, "auth.write.secret", WRITE));
        HttpRequest.Builder form = HttpRequest.newBuilder(server.uri("/api/v1/query"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("query=up&time=1"));
        assertThat(server.send(form).statusCode()).as("no secret").isEqualTo(401);
        assertThat(server.send(form.copy().header("Authorization", "Bearer " + WRITE)).statusCode())
                .as("the write secret cannot read").isEqualTo(401);
        assertThat(server.send(form.copy().header("Authorization", "Bearer " + READ)).statusCode()).isEqualTo(202);
        assertThat(reached).containsExactly("POST /api/v1/query");
        HttpRequest.Builder ingestForm = HttpRequest.newBuilder(server.uri("/v1/event"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Authorization", "Bearer " + WRITE)
                .POST(HttpRequest.BodyPublishers.ofString("a=b"));
        assertThat(server.send(ingestForm).statusCode()).as("a form is still no ingest body").isEqualTo(415);
        HttpRequest.Builder foreign = form.copy().header("Authorization", "Bearer " + READ).header("Origin", "http://evil.example");
        assertThat(server.send(foreign).statusCode()).as("a foreign page").isEqualTo(403);
        assertThat(reached).hasSize(1);
    }

    @Test
    void hostAndOriginHelpers() {
        assertThat(GuardFilter.hostName("Example.COM:8080")).isEqualTo("example.com");
        assertThat(GuardFilter.hostName("[::1]:17001")).isEqualTo("[::1]");
        assertThat(GuardFilter.sameOrigin("http://127.0.0.1:17001", "127.0.0.1:17001")).isTrue();
        assertThat(GuardFilter.sameOrigin("http://example.com", "example.com:80")).isTrue();
        assertThat(GuardFilter.sameOrigin("null", "127.0.0.1:17001")).isFalse();
        assertThat(GuardFilter.printable("a\u0000b")).isEqualTo("\"a\\u0000b\"");
        GuardSettings wildcard = GuardSettings.of(ConfigValues.of(HttpServerComponent.Config.class,
                Converters.standardConverter().convert(Map.of()).to(HttpServerComponent.Config.class), Map.of()),
                "0.0.0.0", "", "", null, null);
        assertThat(GuardFilter.hostAllowed(wildcard, "anything.example")).isTrue();
    }
}
