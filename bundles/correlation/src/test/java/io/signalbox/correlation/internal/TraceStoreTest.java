package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.Engines.metric;
import static io.signalbox.correlation.internal.TestMessages.span;
import static io.signalbox.correlation.internal.TestMessages.tracedEvent;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.SpanNode;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceSource;
import io.signalbox.api.TraceSummary;

/** The trace store as the component offers it: fed by {@code offer}, swept by {@code tick}. */
class TraceStoreTest {
    @RegisterExtension
    final Engines engines = new Engines();
    private final FakeClock clock = engines.clock;

    @Test
    void traceTreeJoinsSpansAcrossSourcesAndOrdersChildrenByStartThenSpanId() {
        CorrelationEngine e = engines.start(Map.of());
        e.offer(span("web", "t1", "c3", "root", "late child", 30));
        e.offer(span("web", "t1", "root", null, "request", 10));
        e.offer(span("worker", "t1", "c2", "root", "child b", 20));
        e.offer(span("db", "t1", "c1", "root", "child a", 20));
        e.offer(span("db", "t1", "g1", "c1", "grandchild", 21));
        e.offer(span("db", "t1", "o1", "never-seen", "orphan", 5));
        e.offer(tracedEvent("worker", "t1", 40));
        e.offer(span("web", "t2", "x", null, "other trace", 12));

        Trace trace = e.trace("t1").orElseThrow();

        assertThat(trace.roots()).extracting(SpanNode::spanId).containsExactly("o1", "root");
        assertThat(trace.roots().get(0).parentSpanId()).as("an orphan keeps its pid").isEqualTo("never-seen");
        SpanNode root = trace.roots().get(1);
        assertThat(root.children()).extracting(SpanNode::spanId).containsExactly("c1", "c2", "c3");
        assertThat(root.children()).extracting(SpanNode::source).containsExactly("db", "worker", "web");
        assertThat(root.children().get(0).children()).extracting(SpanNode::spanId).containsExactly("g1");
        assertThat(trace.spanCount()).isEqualTo(6);
        assertThat(trace.messageCount()).isEqualTo(7);
        assertThat(trace.sources()).containsExactlyInAnyOrder("web", "worker", "db");
        assertThat(trace.firstSeen()).isEqualTo(5);
        assertThat(trace.lastSeen()).isEqualTo(40);
        assertThat(e.size()).isEqualTo(2);
        assertThat(e.trace("nope")).isEmpty();
    }

    @Test
    void aTraceOfManySourcesTalliesEachSourceOnceBeforeAndAfterItsTallyIndexIsBuilt() {
        // the tallies are searched linearly up to TraceEntry.LINEAR_TALLIES sources, then through a map
        CorrelationEngine e = engines.start(Map.of());
        int sources = TraceEntry.LINEAR_TALLIES * 3;
        for (int round = 0; round < 3; round++) {
            for (int s = 0; s < sources; s++) {
                // a new String each time: tallies match by value, not by identity
                e.offer(tracedEvent(new String("src-" + s), "wide", 100 * round + s));
                e.offer(span("src-" + s, "wide", "s" + round + "-" + s, null, "op", 100 * round + s));
            }
            Trace trace = e.trace("wide").orElseThrow();
            assertThat(trace.sources()).hasSize(sources);
            assertThat(trace.bySource()).hasSize(sources);
            for (int s = 0; s < sources; s++) {
                TraceSource t = trace.bySource().get(s);
                assertThat(t.source()).as("ordered by start").isEqualTo("src-" + s);
                assertThat(t.messageCount()).isEqualTo(2L * (round + 1));
                assertThat(t.spanCount()).isEqualTo(round + 1);
                assertThat(t.start()).isEqualTo(s);
            }
        }
        assertThat(e.trace("wide").orElseThrow().messageCount()).isEqualTo(6L * sources);
    }

    @Test
    void recentListsMostRecentlyUpdatedTracesFirst() {
        CorrelationEngine e = engines.start(Map.of());
        e.offer(tracedEvent("a", "t1", 100));
        clock.advanceMillis(10);
        e.offer(tracedEvent("a", "t2", 200));
        clock.advanceMillis(10);
        e.offer(tracedEvent("a", "t3", 300));
        clock.advanceMillis(10);
        e.offer(tracedEvent("a", "t1", 400));

        assertThat(e.recent(10)).extracting(TraceSummary::traceId).containsExactly("t1", "t3", "t2");
        assertThat(e.recent(2)).extracting(TraceSummary::traceId).containsExactly("t1", "t3");
        assertThat(e.recent(1).get(0).messageCount()).isEqualTo(2);
        assertThat(e.recent(0)).isEmpty();
    }

    @Test
    void tracesNotUpdatedForTheTtlAreEvictedByTheTick() {
        CorrelationEngine e = engines.start(Map.of("trace.ttl.seconds", 60));
        e.offer(tracedEvent("a", "old", 1));
        clock.advanceMillis(30_000);
        e.offer(tracedEvent("a", "young", 2));
        clock.advanceMillis(29_000);
        e.tick();
        assertThat(e.size()).isEqualTo(2);

        clock.advanceMillis(1_001);
        e.tick();

        assertThat(e.trace("old")).isEmpty();
        assertThat(e.trace("young")).isPresent();
        assertThat(metric(e, "signalbox_traces_evicted_total")).isEqualTo(1);
        assertThat(metric(e, "signalbox_traces_held")).isEqualTo(1);
    }

    @Test
    void leastRecentlyUpdatedTracesAreEvictedAboveMaxTraces() {
        CorrelationEngine e = engines.start(Map.of("trace.max.traces", 3));
        for (int i = 1; i <= 5; i++) {
            e.offer(tracedEvent("a", "t" + i, i));
            clock.advanceMillis(1);
        }
        e.offer(tracedEvent("a", "t1", 9)); // t1 is recent again if it was kept; else it starts anew
        clock.advanceMillis(2_000);
        e.tick();

        assertThat(e.size()).isEqualTo(3);
        assertThat(e.recent(10)).extracting(TraceSummary::traceId).containsExactly("t1", "t5", "t4");
        assertThat(metric(e, "signalbox_traces_held")).isEqualTo(3);
        assertThat(metric(e, "signalbox_traces_evicted_total")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void spansBeyondMaxSpansAreCountedNotKept() {
        CorrelationEngine e = engines.start(Map.of("trace.max.spans", 2));
        e.offer(span("a", "t", "s1", null, "one", 1));
        e.offer(span("a", "t", "s2", "s1", "two", 2));
        e.offer(span("a", "t", "s3", "s1", "three", 3));

        Trace trace = e.trace("t").orElseThrow();

        assertThat(trace.spanCount()).isEqualTo(3);
        assertThat(trace.roots()).singleElement()
                .satisfies(root -> assertThat(root.children()).extracting(SpanNode::spanId).containsExactly("s2"));
        assertThat(metric(e, "signalbox_spans_dropped_total")).isEqualTo(1);
    }

    @Test
    void messagesWithoutTraceIdAreNotStored() {
        CorrelationEngine e = engines.start(Map.of());
        e.offer(TestMessages.info("a", "plain"));

        assertThat(e.size()).isZero();
        assertThat(e.recent(5)).isEqualTo(List.of());
    }

    @Test
    void evictionOrderIsOldestFirstThenByIndexWhetherPackedOrBoxed() {
        java.util.Random random = new java.util.Random(7);
        for (int round = 0; round < 500; round++) {
            int n = random.nextInt(300);
            long base = 1_780_000_000_000L;
            // narrow spreads are packed into longs; round % 5 == 0 spreads too far for that (the boxed sort)
            long spread = round % 5 == 0 ? Long.MAX_VALUE / 4 : 1 + random.nextInt(5_000);
            long[] keyed = new long[n];
            long lo = Long.MAX_VALUE;
            long hi = Long.MIN_VALUE;
            for (int i = 0; i < n; i++) {
                keyed[i] = round % 5 == 0 ? random.nextLong() / 4 : base + (long) (random.nextDouble() * spread);
                lo = Math.min(lo, keyed[i]);
                hi = Math.max(hi, keyed[i]);
            }
            Integer[] expected = new Integer[n];
            for (int i = 0; i < n; i++) {
                expected[i] = i;
            }
            java.util.Arrays.sort(expected, (a, b) -> keyed[a] != keyed[b] ? Long.compare(keyed[a], keyed[b]) : Integer.compare(a, b));
            assertThat(InMemoryTraceStore.leastRecentFirst(keyed, lo, hi)).as("round %d", round)
                    .containsExactly(java.util.Arrays.stream(expected).mapToInt(Integer::intValue).toArray());
        }
    }
}
