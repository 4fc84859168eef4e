package io.signalbox.backend.webhook.internal;

import static io.signalbox.backend.webhook.internal.Fixtures.batch;
import static io.signalbox.backend.webhook.internal.Fixtures.line;
import static io.signalbox.backend.webhook.internal.Fixtures.props;
import static io.signalbox.backend.webhook.internal.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.MetricSamples;

class WebhookBackendTest {
    @RegisterExtension
    final TestServer server = new TestServer();
    private WebhookBackend backend;

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
    }

    private WebhookBackend backend(Object... keyValues) {
        List<Object> kv = new ArrayList<>(Arrays.asList(keyValues));
        if (!kv.contains("url")) {
            kv.add("url");
            kv.add(server.url("/hook/secret-path"));
        }
        backend = new WebhookBackend("hook", settings(props(kv.toArray())));
        return backend;
    }

    /** Requests answered with {@code status} ({@code 200}, {@code timeout} …). */
    private double requests(String status) {
        return MetricSamples.of(backend).value("signalbox_webhook_requests_total", "backend", "hook", "status", status);
    }

    private double bytesSent() {
        return MetricSamples.of(backend).value("signalbox_webhook_bytes_sent_total", "backend", "hook");
    }

    private double failures() {
        return MetricSamples.of(backend).value("signalbox_webhook_failures_total", "backend", "hook");
    }

    /** Parses {@code body} as a JSON array of objects and returns each element's exact bytes. */
    static List<byte[]> jsonArrayElements(byte[] body) throws IOException {
        List<byte[]> elements = new ArrayList<>();
        try (JsonParser p = new JsonFactory().createParser(body)) {
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_ARRAY);
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
                int start = (int) p.currentTokenLocation().getByteOffset();
                p.skipChildren();
                int end = (int) p.currentLocation().getByteOffset();
                elements.add(Arrays.copyOfRange(body, start, end));
            }
            assertThat(t).isEqualTo(JsonToken.END_ARRAY);
            assertThat(p.nextToken()).isNull();
        }
        return elements;
    }

    private static List<String> utf8(List<byte[]> bytes) {
        List<String> out = new ArrayList<>();
        bytes.forEach(b -> out.add(new String(b, StandardCharsets.UTF_8)));
        return out;
    }

    private static List<String> lines(int first, int count) {
        List<String> out = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            out.add(new String(line(i), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void bodyIsAJsonArrayWhoseElementsAreByteIdenticalToTheLines() throws Exception {
        backend().write(batch(100));

        TestServer.Request r = server.next();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/hook/secret-path");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.header("Content-Encoding")).isNull();
        List<byte[]> elements = jsonArrayElements(r.body());
        assertThat(elements).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(elements.get(i)).as("element %d", i).isEqualTo(line(i));
        }
        assertThat(r.body()).isEqualTo(WebhookBackend.jsonArray(batch(100).messages(), 0, 100));
        assertThat(server.poll()).as("one request for the batch").isNull();
        assertThat(requests("200")).isEqualTo(1);
        assertThat(bytesSent()).isEqualTo(r.rawBody().length);
        assertThat(failures()).isZero();
    }

    @Test
    void gzipSendsACompressedBodyWithContentEncoding() throws Exception {
        backend("gzip", "true").write(batch(50));

        TestServer.Request r = server.next();
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(r.rawBody().length).isLessThan(r.body().length);
        assertThat(utf8(jsonArrayElements(r.body()))).containsExactlyElementsOf(lines(0, 50));
        assertThat(bytesSent()).isEqualTo(r.rawBody().length);
    }

    @Test
    void configuredHeadersAndMethodAreSent() throws Exception {
        backend("method", "put", "headers", new String[] {"Authorization: Bearer s3cr3t", "X-Team: ops, infra"})
                .write(batch(1));

        TestServer.Request r = server.next();
        assertThat(r.method()).isEqualTo("PUT");
        assertThat(r.header("Authorization")).isEqualTo("Bearer s3cr3t");
        assertThat(r.header("X-Team")).isEqualTo("ops, infra");
    }

    @Test
    void non2xxThrowsWithStatusAndTheFirst200CharactersOfTheBodyAndCountsAFailure() throws Exception {
        server.status = 500;
        server.responseBody = "database\nunavailable " + "x".repeat(300);
        backend();

        assertThatThrownBy(() -> backend.write(batch(3)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("HTTP 500")
                .hasMessageContaining("http://127.0.0.1:")
                .hasMessageNotContaining("secret-path")
                .hasMessageEndingWith(("database unavailable " + "x".repeat(300)).substring(0, 200));
        assertThat(requests("500")).isEqualTo(1);
        assertThat(failures()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 413, 422})
    void aClientErrorRejectsTheBatchWithTheStatusAndTheBodyOnOneLine(int status) throws Exception {
        server.status = status;
        server.responseBody = "field \"ts\" is invalid\r\n\tsee docs " + "y".repeat(300);
        backend();

        assertThatThrownBy(() -> backend.write(batch(3)))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessage("HTTP " + status + ": " + ("field \"ts\" is invalid   see docs " + "y".repeat(300)).substring(0, 200));
        assertThat(server.next()).isNotNull();
        assertThat(server.poll()).as("sent once, not retried by the backend").isNull();
        assertThat(requests(Integer.toString(status))).isEqualTo(1);
        assertThat(failures()).isEqualTo(1);
    }

    @Test
    void aRejectionWithAnEmptyBodySaysSo() {
        server.status = 404;
        assertThatThrownBy(() -> backend().write(batch(1)))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessage("HTTP 404: (empty body)");
    }

    @ParameterizedTest
    @ValueSource(ints = {408, 429, 500, 503})
    void requestTimeoutTooManyRequestsAndServerErrorsStayRetryable(int status) throws Exception {
        server.statuses.add(status);
        server.responseBody = "try later";
        backend();
        Batch batch = batch(2);

        assertThatThrownBy(() -> backend.write(batch))
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(BatchRejectedException.class)
                .hasMessageContaining("HTTP " + status);
        backend.write(batch); // the channel's retry succeeds
        assertThat(server.next()).isNotNull();
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(0, 2));
    }

    @Test
    void timeoutsAndConnectionErrorsAreNotRejections() throws Exception {
        server.hang = true;
        assertThatThrownBy(() -> backend("request.timeout.ms", "300").write(batch(1)))
                .isInstanceOf(HttpTimeoutException.class);
        backend.close();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> backend("url", "http://127.0.0.1:" + port + "/x").write(batch(1)))
                .isInstanceOf(IOException.class)
                .isNotInstanceOf(BatchRejectedException.class);
    }

    @Test
    void aSplitBatchRefusedPartWayIsRejectedSayingWhichMessagesWereDelivered() throws Exception {
        backend("max.batch.bytes", 2 + 2 * line(0).length + 1); // 2 lines per request
        server.statuses.add(200);
        server.statuses.add(422);
        server.responseBody = "bad";

        assertThatThrownBy(() -> backend.write(batch(6)))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessage("HTTP 422: bad (messages 1-2 of this batch of 6 had been delivered before)");
        assertThat(server.next()).isNotNull();
        assertThat(server.next()).isNotNull();
        assertThat(server.poll()).as("the rest of the batch is not sent").isNull();

        backend.write(batch(6)); // the next batch is sent whole
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(0, 2));
    }

    @Test
    void aHugeErrorBodyIsDrainedAndOnlyItsStartReported() throws Exception {
        server.status = 503;
        server.responseBody = "overloaded ".repeat(200_000);
        assertThatThrownBy(() -> backend().write(batch(1)))
                .hasMessageContaining("HTTP 503")
                .hasMessageEndingWith("overloaded ".repeat(20).substring(0, 200).strip());
        server.status = 200;
        backend.write(batch(1)); // the connection is still usable
        assertThat(server.next()).isNotNull();
        assertThat(server.next()).isNotNull();
    }

    @Test
    void redirectIsAFailureNotFollowed() throws Exception {
        server.status = 302;
        assertThatThrownBy(() -> backend().write(batch(1))).hasMessageContaining("HTTP 302");
        assertThat(server.next()).isNotNull();
        assertThat(server.poll()).isNull();
    }

    @Test
    void noResponseWithinTheRequestTimeoutThrowsATimeout() throws Exception {
        server.hang = true;
        backend("request.timeout.ms", "300");

        assertThatThrownBy(() -> backend.write(batch(2)))
                .isInstanceOf(HttpTimeoutException.class)
                .hasMessageContaining("300 ms");
        assertThat(requests("timeout")).isEqualTo(1);
        assertThat(failures()).isEqualTo(1);
    }

    @Test
    void connectionRefusedThrows() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        backend("url", "http://127.0.0.1:" + port + "/x");
        assertThatThrownBy(() -> backend.write(batch(1))).isInstanceOf(IOException.class)
                .hasMessageContaining("127.0.0.1:" + port);
        assertThat(failures()).isEqualTo(1);
    }

    @Test
    void batchLargerThanMaxBatchBytesIsSplitIntoRequestsInOrder() throws Exception {
        int lineLength = line(0).length; // lines 0..9 have the same length
        int perRequest = 3;
        int max = 2 + perRequest * lineLength + (perRequest - 1); // exactly 3 lines fit
        backend("max.batch.bytes", max).write(batch(10));

        List<String> received = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        TestServer.Request r;
        while ((r = server.poll()) != null) {
            assertThat(r.body().length).isLessThanOrEqualTo(max);
            List<String> elements = utf8(jsonArrayElements(r.body()));
            sizes.add(elements.size());
            received.addAll(elements);
        }
        assertThat(sizes).containsExactly(3, 3, 3, 1);
        assertThat(received).containsExactlyElementsOf(lines(0, 10));
    }

    @Test
    void aMessageLargerThanMaxBatchBytesIsSentAlone() throws Exception {
        backend("max.batch.bytes", 10).write(batch(2));
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(0, 1));
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(1, 1));
    }

    @Test
    void retryOfASplitBatchThatFailedPartWaySendsOnlyTheRequestsNotYetAcknowledged() throws Exception {
        backend("max.batch.bytes", 2 + 2 * line(0).length + 1); // 2 lines per request
        server.statuses.add(200);
        server.statuses.add(503);
        Batch batch = batch(6);

        assertThatThrownBy(() -> backend.write(batch)).hasMessageContaining("HTTP 503");
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(0, 2));
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(2, 2));
        assertThat(server.poll()).isNull();

        backend.write(batch); // the channel's retry of the same batch
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(2, 2));
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(4, 2));
        assertThat(server.poll()).isNull();

        backend.write(batch(6)); // an equal but different batch is sent whole
        assertThat(utf8(jsonArrayElements(server.next().body()))).containsExactlyElementsOf(lines(0, 2));
    }

    @Test
    void updateAppliesToTheNextRequest() throws Exception {
        backend();
        backend.update(settings(props("url", server.url("/other"), "headers", "X-New: 1")));
        backend.write(batch(1));
        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/other");
        assertThat(r.header("X-New")).isEqualTo("1");
    }

    @Test
    void writeAfterCloseThrows() {
        backend().close();
        assertThatThrownBy(() -> backend.write(batch(1))).isInstanceOf(IllegalStateException.class);
    }
}
