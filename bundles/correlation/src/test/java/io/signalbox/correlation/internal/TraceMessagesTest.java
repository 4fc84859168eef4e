package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.TestMessages.span;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;
import io.signalbox.api.SpanNode;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceSource;
import io.signalbox.api.TraceSummary;

/** The events, metrics and per-source summaries a trace keeps besides its span tree. */
class TraceMessagesTest {
    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void eventsAndMetricsAreKeptUnderTheSpanTheyNameAndTheOthersOnTheTrace() {
        CorrelationEngine e = engines.fed(Map.of(),
                span("loader", "job", "root", null, "load", 10),
                message(MessageType.EVENT, "loader", "job", "root", 11, "started"),
                message(MessageType.METRIC, "loader", "job", "root", 12, "rows"),
                message(MessageType.PROGRESS, "loader", "job", "root", 13, "50%"),
                message(MessageType.RESOURCE, "loader", "job", "root", 14, "cpu"),
                message(MessageType.EVENT, "loader", "job", null, 15, "no span"),
                message(MessageType.METRIC, "loader", "job", null, 16, "no span metric"),
                message(MessageType.HEARTBEAT, "loader", "job", "root", 17, "beat"));

        Trace trace = e.trace("job").orElseThrow();

        SpanNode root = trace.roots().get(0);
        assertThat(lines(root.events())).containsExactly("started", "50%");
        assertThat(lines(root.metrics())).containsExactly("rows", "cpu");
        assertThat(root.eventsCut()).isZero();
        assertThat(lines(trace.events())).containsExactly("no span");
        assertThat(lines(trace.metrics())).containsExactly("no span metric");
        assertThat(trace.messageCount()).isEqualTo(8);
        assertThat(trace.spanCount()).isEqualTo(1);
    }

    @Test
    void eventsArrivingBeforeTheirSpanOpenItAndTheSpanMessageCompletesIt() {
        CorrelationEngine e = engines.fed(Map.of(),
                span("web", "t", "root", null, "request", 0),
                message(MessageType.EVENT, "worker", "t", "child", 20, "first"),
                message(MessageType.EVENT, "worker", "t", "child", 30, "second"));

        Trace open = e.trace("t").orElseThrow();
        SpanNode openChild = open.roots().stream().filter(n -> "child".equals(n.spanId())).findFirst().orElseThrow();
        assertThat(openChild.isOpen()).isTrue();
        assertThat(openChild.span()).isEqualTo(new SpanInfo(null, SpanNode.OPEN, 20, 30));
        assertThat(open.spanCount()).as("an open span is not a span message").isEqualTo(1);

        e.offer(new Message("worker", 40, MessageType.SPAN, "t", "child", "root", null,
                new SpanInfo("work", "ok", 15, 40), bytes("span")));

        Trace done = e.trace("t").orElseThrow();
        assertThat(done.roots()).singleElement().satisfies(root -> {
            SpanNode child = root.children().get(0);
            assertThat(child.isOpen()).isFalse();
            assertThat(child.span()).isEqualTo(new SpanInfo("work", "ok", 15, 40));
            assertThat(child.parentSpanId()).isEqualTo("root");
            assertThat(lines(child.events())).containsExactly("first", "second");
        });
        assertThat(done.spanCount()).isEqualTo(2);

        // a complete span keeps what its span message said, whatever the times of later events
        e.offer(message(MessageType.EVENT, "worker", "t", "child", 5, "early"));
        e.offer(message(MessageType.EVENT, "worker", "t", "child", 90, "late"));
        e.offer(message(MessageType.EVENT, "web", "t", "root", 99, "after root"));
        Trace later = e.trace("t").orElseThrow();
        SpanNode root = later.roots().get(0);
        assertThat(root.span()).isEqualTo(new SpanInfo("request", "ok", 0, 5));
        assertThat(root.children().get(0).span()).isEqualTo(new SpanInfo("work", "ok", 15, 40));
        assertThat(lines(root.children().get(0).events())).containsExactly("first", "second", "early", "late");
    }

    @Test
    void eventsBeyondThePerSpanLimitAreCountedAsCut() {
        CorrelationEngine e = engines.start(Map.of("trace.max.messages.per.span", 3));
        e.offer(span("a", "t", "s", null, "one", 1));
        for (int i = 0; i < 10; i++) {
            e.offer(message(MessageType.EVENT, "a", "t", "s", 2 + i, "e" + i));
            e.offer(message(MessageType.EVENT, "a", "t", null, 2 + i, "t" + i));
        }
        e.offer(message(MessageType.METRIC, "a", "t", "s", 20, "m"));

        Trace trace = e.trace("t").orElseThrow();

        SpanNode s = trace.roots().get(0);
        assertThat(lines(s.events())).containsExactly("e0", "e1", "e2");
        assertThat(s.eventsCut()).isEqualTo(7);
        assertThat(lines(s.metrics())).as("metrics have their own bound").containsExactly("m");
        assertThat(s.metricsCut()).isZero();
        assertThat(lines(trace.events())).containsExactly("t0", "t1", "t2");
        assertThat(trace.eventsCut()).isEqualTo(7);
    }

    @Test
    void thePerTraceLimitCutsAcrossAllSpans() {
        CorrelationEngine e = engines.start(Map.of("trace.max.messages", 4));
        for (int i = 0; i < 3; i++) {
            e.offer(message(MessageType.EVENT, "a", "t", "s1", i, "a" + i));
        }
        for (int i = 0; i < 3; i++) {
            e.offer(message(MessageType.METRIC, "a", "t", "s2", 10 + i, "b" + i));
        }

        Trace trace = e.trace("t").orElseThrow();

        assertThat(trace.roots()).extracting(SpanNode::spanId).containsExactly("s1", "s2");
        assertThat(lines(trace.roots().get(0).events())).containsExactly("a0", "a1", "a2");
        assertThat(lines(trace.roots().get(1).metrics())).containsExactly("b0");
        assertThat(trace.roots().get(1).metricsCut()).isEqualTo(2);
    }

    @Test
    void whenNoMoreSpansFitTheirEventsAreKeptOnTheTrace() {
        CorrelationEngine e = engines.fed(Map.of("trace.max.spans", 1),
                span("a", "t", "s1", null, "one", 1),
                message(MessageType.EVENT, "a", "t", "s2", 2, "lost span's event"));

        Trace trace = e.trace("t").orElseThrow();

        assertThat(trace.roots()).extracting(SpanNode::spanId).containsExactly("s1");
        assertThat(lines(trace.events())).containsExactly("lost span's event");
    }

    @Test
    void zeroLimitsKeepNoMessagesButCountThem() {
        CorrelationEngine e = engines.fed(Map.of("trace.max.messages", 0),
                message(MessageType.EVENT, "a", "t", "s", 1, "x"),
                message(MessageType.EVENT, "a", "t", null, 1, "y"));

        Trace trace = e.trace("t").orElseThrow();

        assertThat(trace.roots().get(0).events()).isEmpty();
        assertThat(trace.roots().get(0).eventsCut()).isEqualTo(1);
        assertThat(trace.eventsCut()).isEqualTo(1);
    }

    @Test
    void bySourceSummarisesEachSourceInTheOrderItsPartStarted() {
        CorrelationEngine e = engines.fed(Map.of(),
                spanBetween("file-receiver", "job-12345", "r", null, "receive", 1_000, 3_300),
                message(MessageType.EVENT, "file-receiver", "job-12345", "r", 1_100, "got file"),
                spanBetween("db-loader", "job-12345", "l", "q", "load", 3_500, 48_700),
                spanBetween("queue-service", "job-12345", "q", "r", "enqueue", 3_300, 3_400),
                message(MessageType.EVENT, "auditor", "job-12345", null, 50_000, "audited"),
                message(MessageType.EVENT, "auditor", "job-12345", null, 50_500, "audited again"));

        Trace trace = e.trace("job-12345").orElseThrow();

        assertThat(trace.bySource()).containsExactly(
                new TraceSource("file-receiver", 1, 2, 1_000, 3_300),
                new TraceSource("queue-service", 1, 1, 3_300, 3_400),
                new TraceSource("db-loader", 1, 1, 3_500, 48_700),
                new TraceSource("auditor", 0, 2, 50_000, 50_500));
        assertThat(trace.bySource().get(2).durationMillis()).isEqualTo(45_200);
        assertThat(trace.sources()).containsExactlyInAnyOrder("file-receiver", "queue-service", "db-loader", "auditor");
        assertThat(e.recent(1)).singleElement().extracting(TraceSummary::sources)
                .isEqualTo(List.of("file-receiver", "queue-service", "db-loader", "auditor"));
    }

    @Test
    void aSpanIdSeenTwiceIndexesTheFirstAndKeepsBoth() {
        CorrelationEngine e = engines.fed(Map.of(),
                span("a", "t", "s", null, "first", 1),
                span("a", "t", "s", null, "again", 2),
                message(MessageType.EVENT, "a", "t", "s", 3, "to the first"));

        Trace trace = e.trace("t").orElseThrow();

        assertThat(trace.roots()).extracting(n -> n.span().name()).containsExactly("first", "again");
        assertThat(lines(trace.roots().get(0).events())).containsExactly("to the first");
    }

    @Test
    void spanIndexFindsEveryIdAcrossGrowth() {
        SpanIndex index = new SpanIndex();
        List<SpanSlot> slots = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            SpanSlot s = new SpanSlot("span-" + i, null, "a", null);
            slots.add(s);
            index.add(s);
        }
        assertThat(index.size()).isEqualTo(5_000);
        for (int i = 0; i < 5_000; i++) {
            assertThat(index.get("span-" + i)).isSameAs(slots.get(i));
        }
        assertThat(index.get("span-5000")).isNull();
    }

    private static Message message(MessageType type, String source, String traceId, String spanId, long ts,
            String line) {
        return new Message(source, ts, type, traceId, spanId, null, type == MessageType.EVENT ? "info" : null, null,
                bytes(line));
    }

    private static Message spanBetween(String source, String traceId, String spanId, String parentId, String name,
            long start,
            long end) {
        return new Message(source, end, MessageType.SPAN, traceId, spanId, parentId, null,
                new SpanInfo(name, "ok", start, end), bytes(source + ":" + spanId));
    }

    private static List<String> lines(List<Message> messages) {
        return messages.stream().map(Message::toString).toList();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
