package io.signalbox.http.internal;

import static io.signalbox.http.internal.ApiTestJson.object;
import static io.signalbox.http.internal.ApiTestServer.poll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/** {@code /api/tail} over real HTTP, fed through its {@code BatchListener} side as routing would. */
class TailServletTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private TailServlet servlet;
    private ApiTestServer http;
    private final ExecutorService readers = Executors.newCachedThreadPool();

    @BeforeEach
    void start() throws Exception {
        servlet = new TailServlet(config(Map.of("max.clients", 2, "keepalive.seconds", 1)), Map.of());
        http = ApiTestServer.of(servlet, TailServlet.PATH);
    }

    @AfterEach
    void stop() throws Exception {
        servlet.deactivate();
        readers.shutdownNow();
        http.close();
    }

    @Test
    void linesRoutedAfterConnectingAreStreamedAsReceivedFilteredBySourceAndType() throws Exception {
        HttpResponse<InputStream> r = http.client.send(HttpRequest.newBuilder(http.uri("/api/tail?source=web&type=event"))
                .GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/x-ndjson");
        awaitClients(1);
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        Future<List<String>> lines = readers.submit(() -> readLines(in, 2));

        servlet.routed(new Batch("db", List.of(msg("db", MessageType.EVENT, "{\"src\":\"db\",\"n\":1}"))), List.of("files"));
        servlet.routed(new Batch("web", List.of(
                msg("web", MessageType.METRIC, "{\"src\":\"web\",\"type\":\"metric\"}"),
                msg("web", MessageType.EVENT, "{\"src\":\"web\",\"n\":2}"),
                msg("web", MessageType.EVENT, "{\"src\":\"web\",\"n\":3,\"msg\":\"é ✓\"}"))), List.of("files"));

        assertThat(lines.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .containsExactly("{\"src\":\"web\",\"n\":2}", "{\"src\":\"web\",\"n\":3,\"msg\":\"é ✓\"}");
        r.body().close();
    }

    @Test
    void aClientThatDoesNotKeepUpLosesLinesThatAreCountedAndReportedInTheStream() throws Exception {
        TailServletClient client = new TailServletClient(null, null, 3);
        client.offer(new Batch("a", List.of(msg("a", MessageType.EVENT, "1"), msg("a", MessageType.EVENT, "2"))));
        client.offer(new Batch("a", List.of(msg("a", MessageType.EVENT, "3"), msg("a", MessageType.EVENT, "4"))));
        client.offer(new Batch("a", List.of(msg("a", MessageType.EVENT, "5"))));
        assertThat(client.dropped()).isEqualTo(2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStream closingAfterFirstFlush = new OutputStream() {
            @Override
            public void write(int b) {
                out.write(b);
            }

            @Override
            public void flush() {
                client.close();
            }
        };

        TailServlet.stream(client, closingAfterFirstFlush, 60_000);

        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("1\n2\n5\n{\"signalbox_tail_dropped\":2}\n");
    }

    @Test
    void aClientThatWentAwayIsNoticedByTheKeepaliveAndForgotten() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http.port())) {
            s.getOutputStream().write("GET /api/tail HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            awaitClients(1);
        }
        // nothing is routed: the empty keepalive line (every second here) finds the socket closed
        assertThat(poll(WAIT, () -> servlet.clientCount() == 0)).as("client forgotten").isTrue();
    }

    @Test
    void clientsAboveMaxClientsAreRefusedWith503() throws Exception {
        List<HttpResponse<InputStream>> open = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            open.add(http.client.send(HttpRequest.newBuilder(http.uri("/api/tail")).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream()));
        }
        awaitClients(2);

        HttpResponse<String> third = http.get("/api/tail");

        assertThat(third.statusCode()).isEqualTo(503);
        assertThat(third.headers().firstValue("Retry-After")).isPresent();
        assertThat(object(third.body()).get("error").toString()).contains("max.clients=2");
        for (HttpResponse<InputStream> r : open) {
            r.body().close();
        }
    }

    @Test
    void anUnknownTypeIs400AndOtherMethodsAre405() throws Exception {
        HttpResponse<String> bad = http.get("/api/tail?type=evnt");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(object(bad.body()).get("error").toString()).contains("type must be one of event, metric");

        http.assertNotAllowed("POST", "/api/tail", "GET");
        assertThat(servlet.clientCount()).isZero();
    }

    @Test
    void deactivationEndsEveryStream() throws Exception {
        HttpResponse<InputStream> r = http.client.send(HttpRequest.newBuilder(http.uri("/api/tail")).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        awaitClients(1);
        Future<Integer> end = readers.submit(() -> {
            InputStream in = r.body();
            while (in.read() >= 0) {
                // keepalive lines until the server ends the stream
            }
            return -1;
        });

        servlet.deactivate();

        assertThat(end.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(http.get("/api/tail").statusCode()).as("no new streams once stopped").isEqualTo(503);
    }

    @Test
    void withoutClientsRoutedBatchesCostNothingAndAreNotKept() {
        servlet.routed(new Batch("a", List.of(msg("a", MessageType.EVENT, "x"))), List.of());
        assertThat(servlet.clientCount()).isZero();
    }

    @Test
    void aConfigurationWithZeroOrUnknownValuesIsRejected() {
        assertThatThrownBy(() -> new TailServlet(config(Map.of("max.clients", 0)), Map.of("max.clients", 0)))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("'max.clients' must be >= 1, is 0");
        assertThatThrownBy(() -> new TailServlet(config(Map.of()), Map.of("queue.size", 5)))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("unknown key 'queue.size'");
    }

    @Test
    void aValidChangeAppliesToNewClientsAndARejectedOneIsCountedAndKeepsTheSettingsInForce() {
        Map<String, Object> more = Map.of("max.clients", 3, "queue.messages", 50, "keepalive.seconds", 1);
        servlet.modified(config(more), more);
        assertThat(servlet.settings()).isEqualTo(new TailServlet.Settings(3, 50, 1));

        long before = ConfigCheck.rejectionCount();
        Map<String, Object> bad = Map.of("max.clients", 0, "queue.messages", 0);
        servlet.modified(config(bad), bad);

        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(ConfigCheck.lastRejection()).hasValueSatisfying(r -> assertThat(r.message())
                .endsWith("rejected: 'max.clients' must be >= 1, is 0; 'queue.messages' must be >= 1, is 0"));
        assertThat(servlet.settings()).isEqualTo(new TailServlet.Settings(3, 50, 1));
    }

    private void awaitClients(int n) {
        assertThat(poll(WAIT, () -> servlet.clientCount() == n)).as("%d tail clients registered", n).isTrue();
    }

    /** The next {@code n} non-empty lines (keepalive lines are empty). */
    private static List<String> readLines(BufferedReader in, int n) throws IOException {
        List<String> lines = new ArrayList<>();
        while (lines.size() < n) {
            String line = in.readLine();
            if (line == null) {
                break;
            }
            if (!line.isEmpty()) {
                lines.add(line);
            }
        }
        return lines;
    }

    private static Message msg(String source, MessageType type, String line) {
        return new Message(source, 1L, type, null, null, null, type == MessageType.EVENT ? "info" : null, null,
                line.getBytes(StandardCharsets.UTF_8));
    }

    static TailServlet.Config config(Map<String, ?> props) {
        return Converters.standardConverter().convert(props).to(TailServlet.Config.class);
    }
}
