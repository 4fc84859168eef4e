package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.DropReason;
import io.signalbox.api.FakeIngest;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;
import io.signalbox.protocol.RejectCounters;

/** POST /v1/event and /v1/events/batch against a fake Ingest, through a real servlet container. */
class IngestServletTest {
    private static final String EVENT = "{\"v\":1,\"src\":\"loader\",\"ts\":1700000000000,\"type\":\"event\","
            + "\"data\":{\"level\":\"info\",\"msg\":\"hello\"}}";
    private static final String METRIC = "{\"v\":1,\"src\":\"loader\",\"ts\":1700000000001,\"type\":\"metric\","
            + "\"data\":{\"name\":\"rows\",\"value\":12}}";

    private final FakeIngest ingest = new FakeIngest();
    private IngestServlet servlet;
    private ApiTestServer server;

    private void start(Map<String, Object> config) throws Exception {
        servlet = new IngestServlet(config(config), config);
        servlet.ingest = ingest;
        server = ApiTestServer.of(servlet, IngestServlet.EVENT, IngestServlet.BATCH);
    }

    private static HttpServerComponent.Config config(Map<String, Object> props) {
        return Converters.standardConverter().convert(props).to(HttpServerComponent.Config.class);
    }

    private void modify(Map<String, Object> props) {
        servlet.modified(config(props), props);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static Map<String, Object> json(HttpResponse<String> r) throws Exception {
        return ApiTestJson.object(r.body());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> errors(HttpResponse<String> r) throws Exception {
        return (List<Map<String, Object>>) json(r).get("errors");
    }

    private long dropped(DropReason reason) {
        return (long) MetricSamples.of(servlet).value(RejectCounters.SERIES, "reason", reason.label());
    }

    private long answered(int status) {
        return (long) MetricSamples.of(servlet).value(IngestServlet.REQUESTS, "status", Integer.toString(status));
    }

    @Test
    void oneEventIsAcceptedWith202AndOfferedAsReceived() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/event", EVENT + "\n");

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r)).isEqualTo(Map.of("accepted", 1L, "rejected", 0L, "errors", List.of()));
        assertThat(ingest.lines()).containsExactly(EVENT);
        Message m = ingest.offered().get(0);
        assertThat(m.source()).isEqualTo("loader");
        assertThat(m.type()).isEqualTo(MessageType.EVENT);
        assertThat(MetricSamples.of(servlet).value(IngestServlet.RECEIVED, "transport", "http")).isEqualTo(1);
        assertThat(answered(202)).isEqualTo(1);
    }

    @Test
    void aPrettyPrintedEventBecomesOneLine() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/event",
                "{\n  \"v\": 1,\r\n  \"src\": \"loader\",\n  \"ts\": 5,\n  \"type\": \"heartbeat\",\n  \"data\": {}\n}\n");

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(ingest.lines()).containsExactly("{  \"v\": 1,  \"src\": \"loader\",  \"ts\": 5,  \"type\": \"heartbeat\",  \"data\": {}}");
    }

    @Test
    void aLongFormEventIsNormalisedLikeOnTcp() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/event", "{\"source\":\"old\",\"timestamp\":\"2024-01-01T00:00:00Z\","
                + "\"type\":\"heartbeat\",\"trace_id\":\"job-1\",\"data\":{}}");

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(ingest.lines()).containsExactly(
                "{\"v\":1,\"src\":\"old\",\"ts\":1704067200000,\"type\":\"heartbeat\",\"tid\":\"job-1\",\"data\":{}}");
    }

    @Test
    void aJsonArrayBatchOffersEveryElementInOrder() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/events/batch", "[" + EVENT + ",\n  " + METRIC + "\n]");

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r)).containsEntry("accepted", 2L).containsEntry("rejected", 0L);
        assertThat(ingest.lines()).containsExactly(EVENT, METRIC);
    }

    @Test
    void anLdjsonBatchToleratesCrLfAndBlankLines() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/events/batch", EVENT + "\r\n\r\n" + METRIC + "\r\n");

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r)).containsEntry("accepted", 2L);
        assertThat(ingest.lines()).containsExactly(EVENT, METRIC);
    }

    @Test
    void badMessagesInABatchAreListedByIndexAndReasonCountedAndTheRestAccepted() throws Exception {
        start(Map.of());
        String body = String.join("\n", EVENT,
                "{not json",
                "{\"v\":1,\"src\":\"loader\",\"ts\":\"yesterday\",\"type\":\"event\",\"data\":{}}",
                "{\"v\":1,\"src\":\"loader\",\"type\":\"heartbeat\",\"data\":{}}",
                "{\"v\":1,\"src\":\"loader\",\"ts\":1,\"type\":\"gossip\",\"data\":{}}",
                "{\"v\":2,\"src\":\"loader\",\"ts\":1,\"type\":\"heartbeat\",\"data\":{}}",
                "[1,2]",
                METRIC);

        HttpResponse<String> r = server.post("/v1/events/batch", body);

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(json(r)).containsEntry("accepted", 2L).containsEntry("rejected", 6L);
        assertThat(errors(r)).extracting(e -> e.get("index") + ":" + e.get("reason")).containsExactly(
                "1:malformed", "2:bad_type", "3:missing_field", "4:unknown_type", "5:unsupported_version",
                "6:malformed");
        assertThat(errors(r)).allSatisfy(e -> assertThat((String) e.get("detail")).isNotBlank());
        assertThat(errors(r).get(2).get("detail")).isEqualTo("missing field 'ts'");
        assertThat(dropped(DropReason.MALFORMED)).isEqualTo(2);
        assertThat(dropped(DropReason.BAD_TYPE)).isEqualTo(1);
        assertThat(dropped(DropReason.MISSING_FIELD)).isEqualTo(1);
        assertThat(dropped(DropReason.UNKNOWN_TYPE)).isEqualTo(1);
        assertThat(dropped(DropReason.UNSUPPORTED_VERSION)).isEqualTo(1);
        assertThat(ingest.lines()).containsExactly(EVENT, METRIC);
    }

    @Test
    void wrongTypesAreRejectedWith400WhenNothingIsAccepted() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/events/batch", "["
                + "{\"v\":1,\"src\":7,\"ts\":1,\"type\":\"heartbeat\",\"data\":{}},"
                + "{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"heartbeat\",\"data\":[]},"
                + "{\"v\":1,\"src\":\"a\",\"ts\":1,\"type\":\"metric\",\"data\":{\"name\":\"x\",\"value\":\"high\"}}]");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r)).containsEntry("accepted", 0L).containsEntry("rejected", 3L);
        assertThat(errors(r)).extracting(e -> e.get("reason")).containsOnly("bad_type");
        assertThat(dropped(DropReason.BAD_TYPE)).isEqualTo(3);
        assertThat(ingest.offered()).isEmpty();
        assertThat(answered(400)).isEqualTo(1);
    }

    @Test
    void malformedJsonIs400() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/event", "{\"v\":1,\"src\":");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errors(r)).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("index", 0L).containsEntry("reason", "malformed");
        });
        assertThat(dropped(DropReason.MALFORMED)).isEqualTo(1);
    }

    @Test
    void twoObjectsPostedAsOneEventAreMalformed() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/event", EVENT + "\n" + EVENT);

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errors(r)).singleElement().satisfies(e -> assertThat(e).containsEntry("reason", "malformed")
                .containsEntry("detail", "trailing content after the JSON object"));
        assertThat(ingest.offered()).isEmpty();
    }

    @Test
    void aBrokenArrayRejectsTheWholeBodyAndOffersNothing() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/events/batch", "[" + EVENT + "," + METRIC);

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r)).containsEntry("accepted", 0L).containsEntry("rejected", 1L);
        assertThat(errors(r)).singleElement().satisfies(e -> assertThat(e).containsEntry("index", 1L)
                .containsEntry("reason", "malformed").containsEntry("detail", "unterminated array (no closing ']')"));
        assertThat(ingest.offered()).isEmpty();
        assertThat(dropped(DropReason.MALFORMED)).isEqualTo(1);
    }

    @Test
    void anEmptyBodyOrEmptyArrayIs400() throws Exception {
        start(Map.of());

        for (String[] c : new String[][] { { "/v1/event", "" }, { "/v1/events/batch", " \n" },
            { "/v1/events/batch", "[]" } }) {
            HttpResponse<String> r = server.post(c[0], c[1]);

            assertThat(r.statusCode()).as(c[0] + " '" + c[1] + "'").isEqualTo(400);
            assertThat(json(r)).as(c[0]).containsEntry("accepted", 0L).containsEntry("rejected", 0L);
        }
        HttpResponse<String> empty = server.post("/v1/event", "");
        assertThat(errors(empty)).singleElement().satisfies(e -> assertThat(e).containsEntry("reason", "empty"));
        assertThat(ingest.offered()).isEmpty();
    }

    @Test
    void aMessageLongerThanTheProtocolLimitIsTooLong() throws Exception {
        start(Map.of());
        String big = "{\"v\":1,\"src\":\"loader\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\""
                + "x".repeat(IngestServlet.MAX_MESSAGE_BYTES) + "\"}}";

        HttpResponse<String> r = server.post("/v1/events/batch", big + "\n" + EVENT + "\n");

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(errors(r)).singleElement().satisfies(e -> assertThat(e).containsEntry("index", 0L)
                .containsEntry("reason", "too_long"));
        assertThat(dropped(DropReason.TOO_LONG)).isEqualTo(1);
        assertThat(ingest.lines()).containsExactly(EVENT);
    }

    @Test
    void aBodyOverIngestMaxBytesIs413WithoutBeingRead() throws Exception {
        start(Map.of("ingest.max.bytes", 1000L));

        // declares 10 GB and sends a few bytes: the answer must come at once, from the header alone
        String answer = server.raw("POST /v1/events/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n", EVENT.getBytes(StandardCharsets.UTF_8));

        assertThat(answer).startsWith("HTTP/1.1 413 ");
        assertThat(answer).contains("{\"error\":\"request body larger than ingest.max.bytes=1000\"}");
        assertThat(ingest.offered()).isEmpty();
        assertThat(answered(413)).isEqualTo(1);
    }

    @Test
    void aChunkedBodyIsReadOnlyUpToIngestMaxBytes() throws Exception {
        start(Map.of("ingest.max.bytes", 1000L));
        StringBuilder chunks = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            chunks.append(Integer.toHexString(EVENT.length() + 1)).append("\r\n").append(EVENT).append("\n\r\n");
        }
        chunks.append("0\r\n\r\n");

        String answer = server.raw("POST /v1/events/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", chunks.toString().getBytes(StandardCharsets.UTF_8));

        assertThat(answer).startsWith("HTTP/1.1 413 ");
        assertThat(ingest.offered()).isEmpty();
    }

    @Test
    void aChunkedBodyWithinTheLimitIsAccepted() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/events/batch"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream((EVENT + "\n" + METRIC).getBytes(StandardCharsets.UTF_8)))));

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(ingest.lines()).containsExactly(EVENT, METRIC);
    }

    @Test
    void aBodyOfExactlyIngestMaxBytesIsAccepted() throws Exception {
        start(Map.of("ingest.max.bytes", (long) EVENT.length()));

        assertThat(server.post("/v1/event", EVENT).statusCode()).isEqualTo(202);
        assertThat(server.post("/v1/event", EVENT + "\n").statusCode()).isEqualTo(413);
    }

    @Test
    void aNewIngestMaxBytesAppliesToTheNextRequestAndARejectedConfigurationChangesNothing() throws Exception {
        start(Map.of());
        // what DS passes: the configuration, plus this component's own and the framework's properties
        modify(Map.of("ingest.max.bytes", 10L, "port", 17001, "osgi.http.whiteboard.servlet.pattern",
                new String[] { IngestServlet.EVENT, IngestServlet.BATCH }, "component.name", IngestServlet.NAME,
                "service.pid", HttpServerComponent.PID));
        assertThat(server.post("/v1/event", EVENT).statusCode()).isEqualTo(413);

        modify(Map.of("ingest.max.bytes", -1L));
        modify(Map.of("ingest.max.bytes", "lots"));
        modify(Map.of("ingest.max.byte", 1_000_000L));
        modify(Map.of("ingest.max.bytes", 1_000_000L, "port", 0));

        assertThat(server.post("/v1/event", EVENT).statusCode()).isEqualTo(413);
        modify(Map.of());
        assertThat(server.post("/v1/event", EVENT).statusCode()).isEqualTo(202);
    }

    @Test
    void anInvalidConfigurationDoesNotStartTheServletAndOnlyTheServerComponentCountsIt() {
        long before = ConfigCheck.rejectionCount();
        Map<String, Object> bad = Map.of("ingest.max.bytes", 0L);

        assertThatThrownBy(() -> new IngestServlet(config(bad), bad)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'ingest.max.bytes' must be 1..");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before);
    }

    @Test
    void everyDropReasonAndAnswerStatusIsACounterFromZero() {
        MetricSamples m = MetricSamples.of(new IngestServlet(config(Map.of()), Map.of()));

        assertThat(m.byLabel(RejectCounters.SERIES, "reason")).hasSize(DropReason.values().length)
                .containsEntry("too_long", 0.0).containsEntry("unsupported_version", 0.0);
        assertThat(m.byLabel(IngestServlet.REQUESTS, "status")).containsOnlyKeys("202", "400", "405", "413", "503");
        assertThat(m.value(IngestServlet.RECEIVED, "transport", "http")).isZero();
        assertThat(m.all()).allSatisfy(s -> assertThat(s.type()).isEqualTo(MetricSamples.Type.COUNTER));
    }

    @Test
    void aFullOrMissingPipelineIs503WithRetryAfterAndNothingIsOffered() throws Exception {
        start(Map.of());
        ingest.setWritable(false);
        HttpResponse<String> full = server.post("/v1/events/batch", EVENT);
        servlet.ingest = null;
        HttpResponse<String> missing = server.post("/v1/event", EVENT);

        for (HttpResponse<String> r : List.of(full, missing)) {
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        }
        assertThat(json(full)).containsEntry("error", "the pipeline is full; retry later");
        assertThat(json(missing)).containsEntry("error", "the pipeline is not running");
        assertThat(ingest.offered()).isEmpty();
        assertThat(answered(503)).isEqualTo(2);
    }

    @Test
    void theBatchGoesInWholeEvenIfThePipelineFillsUpDuringIt() throws Exception {
        start(Map.of());
        FakeIngest fillsUp = new FakeIngest() {
            @Override
            public boolean offer(Message message) {
                super.offer(message);
                return false;
            }
        };
        servlet.ingest = fillsUp;

        HttpResponse<String> r = server.post("/v1/events/batch", EVENT + "\n" + METRIC);

        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(fillsUp.offered()).hasSize(2);
    }

    @Test
    void aFailingPipelineIsReportedPerMessage() throws Exception {
        start(Map.of());
        ingest.failWith(new IllegalStateException("broken on purpose"));

        HttpResponse<String> r = server.post("/v1/event", EVENT);

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errors(r)).singleElement().satisfies(e -> assertThat(e).containsEntry("reason", "ingest_failed"));
    }

    @Test
    void anyMethodButPostIs405() throws Exception {
        start(Map.of());

        for (String path : List.of("/v1/event", "/v1/events/batch")) {
            server.assertNotAllowed("GET", path, "POST");
        }
        server.assertNotAllowed("PUT", "/v1/event", "POST");
        assertThat(ingest.offered()).isEmpty();
    }

    @Test
    void atMostAHundredErrorsAreListedButAllAreCounted() throws Exception {
        start(Map.of());

        HttpResponse<String> r = server.post("/v1/events/batch", "{}\n".repeat(250));

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r)).containsEntry("rejected", 250L);
        assertThat(errors(r)).hasSize(IngestServlet.MAX_ERRORS_LISTED);
        assertThat(dropped(DropReason.MISSING_FIELD)).isEqualTo(250);
    }
}
