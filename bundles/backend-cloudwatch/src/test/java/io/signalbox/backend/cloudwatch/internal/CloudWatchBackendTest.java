package io.signalbox.backend.cloudwatch.internal;

import static io.signalbox.backend.cloudwatch.internal.Fixtures.endpointProps;
import static io.signalbox.backend.cloudwatch.internal.Fixtures.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;

/** The real AWS SDK v2 client against {@link LogsEndpoint}, an in-test Logs_20140328 endpoint. */
class CloudWatchBackendTest {
    private static final long DAY = LogsEndpoint.DAY;

    @RegisterExtension
    final LogsEndpoint endpoint = new LogsEndpoint();
    private CloudWatchBackend backend;
    private final long now = System.currentTimeMillis();

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
    }

    private CloudWatchBackend backend(Object... more) {
        Map<String, Object> p = endpointProps(endpoint, more);
        backend = new CloudWatchBackend("cw", Fixtures.settings(p));
        return backend;
    }

    /** {@code signalbox_backend_cloudwatch_<name>{backend="cw"}}. */
    private long stat(String name) {
        return (long) MetricSamples.of(backend).value("signalbox_backend_cloudwatch_" + name, "backend", "cw");
    }

    private long rejected(String reason) {
        return (long) MetricSamples.of(backend).value("signalbox_backend_cloudwatch_rejected_total", "backend", "cw",
                "reason", reason);
    }

    /** Asserts that stream {@code signalbox/<stream>} holds exactly the lines of {@code expected}, in order. */
    private void assertStored(String stream, List<Message> expected) {
        assertThat(endpoint.events("signalbox", stream)).extracting(LogsEndpoint.Event::message)
                .containsExactlyElementsOf(expected.stream().map(Message::toString).toList());
    }

    /** A mutable list of {@code count} messages, the i-th made by {@code message} (called in order). */
    private static List<Message> messages(int count, IntFunction<Message> message) {
        List<Message> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(message.apply(i));
        }
        return out;
    }

    @Test
    void everyMessageArrivesOnceAsTheRawLineInDefaultGroupAndSourceStream() throws Exception {
        backend();
        List<Message> messages = messages(3000, i -> message(now - 3000 + i, i));
        backend.write(new Batch("svc", messages));

        assertStored("svc", messages);
        assertThat(endpoint.events("signalbox", "svc").get(5).timestamp()).isEqualTo(now - 3000 + 5);
        assertThat(stat("messages_total")).isEqualTo(3000);
        assertThat(stat("batches_total")).isEqualTo(1);
        assertThat(stat("write_seconds_count")).isEqualTo(1);
        assertThat(endpoint.errors).isEmpty();
    }

    @Test
    void moreThanTenThousandEventsAreSplitIntoCallsOfAtMostTenThousand() throws Exception {
        backend();
        List<Message> messages = messages(25_000, i -> Fixtures.tiny(now - 25_000 + i, i));
        backend.write(new Batch("svc", messages));

        assertThat(endpoint.calls).extracting(LogsEndpoint.Call::events).containsExactly(10_000, 10_000, 5_000);
        assertStored("svc", messages);
    }

    @Test
    void callsStayWithinTheByteLimitCountingTwentySixBytesPerEvent() throws Exception {
        backend();
        // ~10 KB each: 300 of them are ~3 MB, so at least 3 calls
        List<Message> messages = messages(300, i -> message("svc", MessageType.EVENT, now - 300 + i, i, 10_000));
        backend.write(new Batch("svc", messages));

        assertThat(endpoint.calls.size()).isGreaterThanOrEqualTo(3);
        assertThat(endpoint.calls).allSatisfy(c -> assertThat(c.bytes()).isLessThanOrEqualTo(1_048_576));
        // full calls: adding one more event would have passed the limit
        long eventBytes = messages.get(0).line().length + 26L;
        assertThat(endpoint.calls.get(0).bytes() + eventBytes).isGreaterThan(1_048_576);
        assertStored("svc", messages);
    }

    @Test
    void eventsAreSortedByTimestampStablyBeforeSending() throws Exception {
        backend();
        Random random = new Random(42);
        List<Message> messages = messages(2000, i -> message(now - 60_000 + random.nextInt(100), i)); // many equal timestamps
        backend.write(new Batch("svc", messages));

        List<Message> expected = new ArrayList<>(messages);
        expected.sort((a, b) -> Long.compare(a.timestamp(), b.timestamp())); // List.sort is stable
        assertStored("svc", expected);
    }

    @Test
    void aBatchSpanningMoreThan24HoursIsSplitSoNoCallSpansMore() throws Exception {
        backend();
        List<Message> messages = messages(100, i -> message(now - 3 * DAY + i * (3 * DAY / 100), i));
        Collections.reverse(messages);
        backend.write(new Batch("svc", messages));

        assertThat(endpoint.calls.size()).isGreaterThanOrEqualTo(3);
        assertThat(endpoint.calls).allSatisfy(c -> assertThat(c.lastTs() - c.firstTs()).isLessThan(DAY));
        assertThat(endpoint.events("signalbox", "svc")).hasSize(100);
    }

    @Test
    void tooOldTooNewAndExpiredEventsAreCountedAsDroppedWithTheirReason() throws Exception {
        endpoint.createGroup("signalbox", 1);
        endpoint.createStream("signalbox", "svc");
        backend();
        List<Message> messages = new ArrayList<>();
        messages.add(message(now - 20 * DAY, 0));
        messages.add(message(now - 20 * DAY + 1, 1)); // too old (and past retention: counted once, as expired)
        messages.add(message(now - 2 * DAY, 2));
        messages.add(message(now - 2 * DAY + 1, 3));
        messages.add(message(now - 2 * DAY + 2, 4)); // expired (retention 1 day)
        for (int i = 5; i < 10; i++) {
            messages.add(message(now - 1000 + i, i));
        }
        messages.add(message(now + 3 * 3600_000L, 10)); // too new
        backend.write(new Batch("svc", messages));

        assertThat(endpoint.events("signalbox", "svc")).hasSize(5);
        assertThat(stat("messages_total")).isEqualTo(5);
        assertThat(rejected("expired")).isEqualTo(5);
        assertThat(rejected("too_new")).isEqualTo(1);
        assertThat(stat("failures_total")).isZero();
    }

    @Test
    void tooOldEventsWithoutRetentionAreCountedAsTooOld() throws Exception {
        backend();
        backend.write(new Batch("svc", List.of(message(now - 20 * DAY, 0), message(now, 1))));

        assertThat(rejected("too_old")).isEqualTo(1);
        assertStored("svc", List.of(message(now, 1)));
    }

    @Test
    void anEventAboveMaxEventBytesIsDroppedAndCountedNotSent() throws Exception {
        backend();
        Message huge = message("svc", MessageType.EVENT, now, 1, 300_000);
        backend.write(new Batch("svc", List.of(message(now, 0), huge, message(now, 2))));

        assertThat(endpoint.events("signalbox", "svc")).hasSize(2);
        assertThat(rejected("too_large")).isEqualTo(1);
    }

    @Test
    void missingGroupAndStreamAreCreatedOnceOnTheFirstWrite() throws Exception {
        backend("log.group.template", "/signalbox/{source}", "log.stream.template", "app-{source}");
        backend.write(new Batch("svc", List.of(message(now, 0))));
        backend.write(new Batch("svc", List.of(message(now, 1))));

        assertThat(endpoint.count("CreateLogGroup")).isEqualTo(1);
        assertThat(endpoint.count("CreateLogStream")).isEqualTo(1);
        assertThat(endpoint.count("PutLogEvents")).isEqualTo(3); // the first one found nothing
        assertThat(endpoint.events("/signalbox/svc", "app-svc")).hasSize(2);
    }

    @Test
    void anExistingGroupIsFineWhenOnlyTheStreamIsMissing() throws Exception {
        endpoint.createGroup("signalbox", 0);
        backend();
        backend.write(new Batch("svc", List.of(message(now, 0))));

        assertThat(endpoint.count("CreateLogGroup")).isEqualTo(1); // answered ResourceAlreadyExists
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
        assertThat(stat("failures_total")).isZero();
    }

    @Test
    void withoutAutoCreateAMissingStreamFailsTheWriteWithItsName() {
        endpoint.createGroup("signalbox", 0);
        backend("create.group", false, "create.stream", false);

        assertThatThrownBy(() -> backend.write(new Batch("svc", List.of(message(now, 0)))))
                .isNotInstanceOf(BatchRejectedException.class) // retried: someone may create it
                .hasMessageContaining("\"signalbox\"").hasMessageContaining("\"svc\"")
                .hasMessageContaining("does not exist");
        assertThat(endpoint.count("CreateLogStream")).isZero();
        assertThat(stat("failures_total")).isEqualTo(1);
    }

    @Test
    void streamsAreWrittenInParallelWithOneCallPerStreamAtATime() throws Exception {
        backend("log.stream.template", "{source}/{type}", "max.events.per.call", 100);
        endpoint.gather = 3;
        MessageType[] types = {MessageType.EVENT, MessageType.METRIC, MessageType.SPAN};
        List<Message> messages = messages(900, i -> message("svc", types[i % 3], now - 900 + i, i, 0));
        backend.write(new Batch("svc", messages));

        assertThat(endpoint.maxInFlight.get()).isEqualTo(3);
        assertThat(endpoint.maxInFlightPerStream.get()).isEqualTo(1);
        for (int t = 0; t < 3; t++) {
            int type = t;
            assertStored("svc/" + types[t].name().toLowerCase(), messages(300, i -> messages.get(3 * i + type)));
        }
    }

    @Test
    void aRetriedBatchDoesNotResendTheCallsAlreadyAcknowledged() throws Exception {
        backend();
        endpoint.failCalls.add(3); // 1: not found, 2: first 10,000 after create, 3: fails
        List<Message> messages = messages(25_000, i -> message(now - 25_000 + i, i));
        Batch batch = new Batch("svc", messages);
        assertThatThrownBy(() -> backend.write(batch)).hasMessageContaining("injected failure");
        backend.write(batch);

        assertStored("svc", messages);
        assertThat(stat("failures_total")).isEqualTo(1);
        assertThat(stat("batches_total")).isEqualTo(1);
        assertThat(stat("messages_total")).isEqualTo(25_000);
    }

    @Test
    void invalidParameterFromPutLogEventsRejectsTheBatchWithTheServicesMessage() throws Exception {
        endpoint.createGroup("signalbox", 0);
        endpoint.createStream("signalbox", "svc");
        backend();
        endpoint.answerCalls.put(1, LogsEndpoint.Answer.INVALID);

        assertThatThrownBy(() -> backend.write(new Batch("svc", List.of(message(now, 0), message(now, 1)))))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessage("CloudWatch Logs refused PutLogEvents of 2 events to signalbox/svc (InvalidParameterException): "
                        + "Log events in a single PutLogEvents request must be in chronological order.")
                .hasMessageNotContaining("s3cr3t");
        assertThat(endpoint.count("PutLogEvents")).as("not retried by the backend").isEqualTo(1);
        assertThat(stat("failures_total")).isEqualTo(1);

        backend.write(new Batch("svc", List.of(message(now, 2)))); // the channel goes on with the next batch
        assertStored("svc", List.of(message(now, 2)));
    }

    @Test
    void anEventTheServiceRefusesAsEmptyRejectsTheBatch() {
        backend();
        Message empty = new Message("svc", now, MessageType.EVENT, null, null, null, "info", null, new byte[0]);

        assertThatThrownBy(() -> backend.write(new Batch("svc", List.of(message(now, 0), empty))))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessageContaining("too large or empty");
    }

    @Test
    void aRejectionAfterAcknowledgedCallsSaysHowManyMessagesWereDelivered() throws Exception {
        endpoint.createGroup("signalbox", 0);
        endpoint.createStream("signalbox", "svc");
        backend("max.events.per.call", 10);
        endpoint.answerCalls.put(2, LogsEndpoint.Answer.INVALID);
        List<Message> messages = messages(25, i -> message(now - 25 + i, i));

        assertThatThrownBy(() -> backend.write(new Batch("svc", messages)))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessageEndingWith("(10 of the 25 messages of this batch had been delivered)");
        assertThat(endpoint.events("signalbox", "svc")).hasSize(10);
        assertThat(endpoint.count("PutLogEvents")).as("the rest of the stream is not sent").isEqualTo(2);
    }

    @ParameterizedTest
    @CsvSource({
        "400, ThrottlingException, Rate exceeded",
        "500, ServiceUnavailableException, The server failed to fulfill the request",
        "503, InternalFailure, internal error",
        "400, UnrecognizedClientException, The security token included in the request is invalid.",
        "400, AccessDeniedException, User is not authorized to perform: logs:PutLogEvents"})
    void throttlingServerErrorsAndCredentialProblemsStayRetryable(int status, String type, String text) throws Exception {
        endpoint.createGroup("signalbox", 0);
        endpoint.createStream("signalbox", "svc");
        backend();
        endpoint.answerCalls.put(1, new LogsEndpoint.Answer(status, type, text));
        Batch batch = new Batch("svc", List.of(message(now, 0)));

        assertThatThrownBy(() -> backend.write(batch))
                .isNotInstanceOf(BatchRejectedException.class)
                .hasMessageContaining(text);
        backend.write(batch); // the channel's retry
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
    }

    @Test
    void aStreamFailingForAReasonWorthRetryingWinsOverAnotherStreamsRejection() throws Exception {
        endpoint.createGroup("signalbox", 0);
        endpoint.createStream("signalbox", "svc/event");
        endpoint.createStream("signalbox", "svc/metric");
        endpoint.createStream("signalbox", "svc/span");
        backend("log.stream.template", "{source}/{type}");
        endpoint.answerStreams.put("svc/metric", LogsEndpoint.Answer.INVALID);
        endpoint.answerStreams.put("svc/span", new LogsEndpoint.Answer(500, "ServiceUnavailableException", "busy"));
        MessageType[] types = {MessageType.EVENT, MessageType.METRIC, MessageType.SPAN};
        List<Message> messages = messages(30, i -> message("svc", types[i % 3], now - 30 + i, i, 0));
        Batch batch = new Batch("svc", messages);

        assertThatThrownBy(() -> backend.write(batch))
                .isNotInstanceOf(BatchRejectedException.class)
                .hasMessageContaining("busy")
                .satisfies(e -> assertThat(e.getSuppressed()).hasAtLeastOneElementOfType(BatchRejectedException.class));

        endpoint.answerStreams.remove("svc/span");
        assertThatThrownBy(() -> backend.write(batch)) // the channel's retry: only the refusal is left
                .isInstanceOf(BatchRejectedException.class)
                .hasMessageContaining("signalbox/svc/metric")
                .hasMessageEndingWith("(20 of the 30 messages of this batch had been delivered)");
        assertThat(endpoint.events("signalbox", "svc/event")).hasSize(10);
        assertThat(endpoint.events("signalbox", "svc/span")).hasSize(10);
        assertThat(endpoint.events("signalbox", "svc/metric")).isEmpty();
    }

    @Test
    void sourceNamesAreSanitisedIntoValidGroupAndStreamNames() throws Exception {
        backend("log.group.template", "sb/{source}", "log.stream.template", "{source}");
        backend.write(new Batch("billing:nightly*job ü", List.of(message(now, 0))));

        assertThat(endpoint.events("sb/billing_nightly_job__", "billing_nightly_job ü")).hasSize(1);
    }

    @Test
    void aClosedBackendRefusesWrites() {
        backend().close();
        assertThatThrownBy(() -> backend.write(new Batch("svc", List.of(message(now, 0)))))
                .isInstanceOf(IllegalStateException.class);
    }
}
