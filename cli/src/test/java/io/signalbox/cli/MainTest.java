package io.signalbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** The commands end to end against a stand-in for the sidecar's HTTP API (the JDK's HTTP server). */
class MainTest {
    private HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger metricsRequests = new AtomicInteger();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<Long> sleeps = new CopyOnWriteArrayList<>();

    private record Answer(int status, String contentType, String body) {
    }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void answer(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getRawPath();
        requests.add(x.getRequestURI().toString());
        if (path.equals("/metrics")) {
            int n = metricsRequests.incrementAndGet();
            answers.put("/metrics", new Answer(200, "text/plain", n == 1 ? StatusViewTest.METRICS_1 : StatusViewTest.METRICS_2));
        }
        Answer a = answers.getOrDefault(path, new Answer(404, "application/json", "{\"error\":\"no such resource\"}"));
        byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", a.contentType());
        x.sendResponseHeaders(a.status(), path.equals("/api/tail") ? 0 : body.length);
        try (OutputStream o = x.getResponseBody()) {
            o.write(body);
        }
    }

    private int run(String... args) {
        URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        return run(base, args);
    }

    private int run(URI base, String... args) {
        Main main = new Main(new Http(base), java.nio.file.Path.of("/opt/signalbox"), out, StandardCharsets.UTF_8,
                new PrintStream(err, true, StandardCharsets.UTF_8), ZoneOffset.UTC, sleeps::add);
        return main.run(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void traceDrawsTheTreeOfTheTrace() {
        answers.put("/api/traces/job-12345", new Answer(200, "application/json", TraceViewTest.JOB));

        assertThat(run("trace", "job-12345")).isZero();

        assertThat(out()).startsWith("job-12345: file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s\n")
                .contains("└── enqueue  0.1s  ok  [queue-service]\n");
    }

    @Test
    void traceIdsAreSentAsOnePathSegment() {
        answers.put("/api/traces/a%2Fb%20c", new Answer(200, "application/json", TraceViewTest.JOB));

        assertThat(run("trace", "a/b c", "--json")).isZero();

        assertThat(requests).containsExactly("/api/traces/a%2Fb%20c");
        assertThat(out()).contains("\"trace_id\":\"job-12345\"");
    }

    @Test
    void anUnknownTraceExitsOneWithTheSidecarsReason() {
        answers.put("/api/traces/nope", new Answer(404, "application/json", "{\"error\":\"no trace nope (unknown)\"}"));

        assertThat(run("trace", "nope")).isEqualTo(Main.FAILED);

        assertThat(err()).contains("signalbox trace: HTTP 404: no trace nope (unknown)");
        assertThat(out()).isEmpty();
    }

    @Test
    void statusShowsHealthAndRatesFromTwoMetricsSamplesASecondApart() {
        answers.put("/health", new Answer(200, "application/json", StatusViewTest.HEALTH));

        assertThat(run("status")).isZero();

        assertThat(metricsRequests).hasValue(2);
        assertThat(sleeps).containsExactly(1000L);
        assertThat(out()).startsWith("Signalbox DEGRADED, up 2h03m").contains("rates over", "files", "waiting_for_bundle");
    }

    @Test
    void statusOfADownSidecarStillPrintsItsHealth() {
        answers.put("/health", new Answer(503, "application/json", StatusViewTest.HEALTH.replace("degraded", "down")));
        answers.put("/api/sources", new Answer(200, "application/json", "{\"sources\":[]}"));
        server.removeContext("/");
        server.createContext("/", x -> {
            if (x.getRequestURI().getPath().equals("/metrics")) {
                x.sendResponseHeaders(404, -1);
                x.close();
                return;
            }
            answer(x);
        });

        assertThat(run("status")).isZero();

        assertThat(out()).startsWith("Signalbox DOWN").contains("received since start: 0");
    }

    @Test
    void routesPrintsTheTableInForce() {
        answers.put("/api/routes", new Answer(200, "application/json", "{\"routes\":[{\"name\":\"default\",\"source\":"
                + "\"default\",\"backends\":[\"files\"],\"types\":[\"event\",\"metric\",\"progress\",\"resource\",\"span\",\"heartbeat\",\"hello\",\"goodbye\"],\"enabled\":true,\"priority\":0,\"global\":false,"
                + "\"origin\":\"file:/opt/signalbox/etc/io.signalbox.route-default.cfg\"},{\"name\":\"audit\","
                + "\"source\":\"*\",\"backends\":[\"files\",\"db\"],\"types\":[\"event\",\"span\"],\"enabled\":false,"
                + "\"priority\":5,\"global\":true,\"origin\":\"yaml /etc/sidecar.yaml\"}]}"));

        assertThat(run("routes")).isZero();

        assertThat(out().lines().toList()).containsExactly(
                "NAME     SOURCE      TYPES       BACKENDS  PRIORITY  ENABLED  ORIGIN",
                "default  default     *           files     0         yes      etc/io.signalbox.route-default.cfg",
                "audit    * (global)  event,span  files,db  5         no       yaml /etc/sidecar.yaml");
    }

    @Test
    void tailCopiesEachLineSkipsKeepalivesAndReportsDropsOnStderr() {
        answers.put("/api/tail", new Answer(200, "application/x-ndjson",
                "{\"src\":\"web\",\"msg\":\"é\"}\n\n{\"signalbox_tail_dropped\":3}\r\n{\"src\":\"web\",\"n\":2}\n"));

        int code = run("tail", "--source", "web", "--type=event");

        assertThat(requests).containsExactly("/api/tail?source=web&type=event");
        assertThat(out()).isEqualTo("{\"src\":\"web\",\"msg\":\"é\"}\n{\"src\":\"web\",\"n\":2}\n");
        assertThat(err()).contains("streaming what is routed", "3 lines dropped so far", "ended the stream");
        assertThat(code).as("a stream the sidecar ended").isEqualTo(Main.FAILED);
    }

    @Test
    void anUnreachableSidecarExitsOneAndSaysWhereItLooked() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }

        assertThat(run(URI.create("http://127.0.0.1:" + port), "routes")).isEqualTo(Main.FAILED);

        assertThat(err()).contains("cannot reach the HTTP API at http://127.0.0.1:" + port, "SIGNALBOX_HTTP");
    }

    @Test
    void badUsageExitsTwoWithTheUsage() {
        assertThat(run()).isEqualTo(Main.USAGE);
        assertThat(run("trace")).isEqualTo(Main.USAGE);
        assertThat(run("routes", "--verbose")).isEqualTo(Main.USAGE);
        assertThat(run("tail", "--source")).isEqualTo(Main.USAGE);
        assertThat(run("frobnicate")).isEqualTo(Main.USAGE);
        assertThat(err()).contains("usage: signalbox status", "unknown option --verbose", "--source needs a value",
                "unknown command 'frobnicate'");
        assertThat(requests).isEmpty();
    }
}
