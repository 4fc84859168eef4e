package io.signalbox.transport.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.FakeFramework;
import io.signalbox.api.Message;
import io.signalbox.api.MetricSamples;
import io.signalbox.api.Trace;
import io.signalbox.backend.kafka.internal.KafkaBackend;
import io.signalbox.backend.kafka.internal.KafkaBroker;
import io.signalbox.backend.kafka.internal.KafkaConfig;
import io.signalbox.backend.kafka.internal.KafkaSettings;
import io.signalbox.correlation.internal.CorrelationEngine;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.RejectCounters;

/**
 * The fleet shape in one JVM with the real pieces: two edge Kafka backends (sources host-a and
 * host-b, each job's trace spread over both) → a topic of 4 partitions → two transports in one
 * consumer group, each feeding its own real correlation engine. Keyed by trace id, every job's trace
 * is whole on exactly one aggregator, with both hosts' spans.
 */
class FleetTraceTest {
    @TempDir
    static Path dir;
    static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.start(dir);
        broker.createTopic("fleet", 4);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    private static final LineDecoder DECODER = new LineDecoder();

    private static Message decode(String line) {
        Message m = DECODER.decode(line.getBytes(StandardCharsets.UTF_8)).message();
        assertThat(m).as(line).isNotNull();
        return m;
    }

    private static String span(String src, String tid, String sid, String pid, String name, long start) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + start + ",\"type\":\"span\",\"tid\":\"" + tid + "\",\"sid\":\"" + sid
                + "\"" + (pid != null ? ",\"pid\":\"" + pid + "\"" : "") + ",\"data\":{\"name\":\"" + name
                + "\",\"status\":\"ok\",\"start\":" + start + ",\"end\":" + (start + 7) + "}}";
    }

    private static String event(String src, String tid, int i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1700000000000L + i) + ",\"type\":\"event\""
                + (tid != null ? ",\"tid\":\"" + tid + "\"" : "") + ",\"data\":{\"level\":\"info\",\"msg\":\"e" + i + "\"}}";
    }

    private static KafkaBackend edge(String name) {
        Map<String, Object> p = FakeFramework.props("bootstrap.servers", broker.bootstrapServers(), "topic", "fleet");
        return new KafkaBackend(name, FakeFramework.settings(KafkaConfig.class, p, KafkaSettings::of));
    }

    private static CorrelationEngine aggregator() {
        CorrelationEngine.Config c = Converters.standardConverter()
                .convert(Map.of("batch.size", 50, "flush.interval.ms", 200)).to(CorrelationEngine.Config.class);
        return new CorrelationEngine(c, (batch, delivered) -> delivered.run());
    }

    private static double partitions(KafkaSource t, String name) {
        return MetricSamples.of(t).value("signalbox_kafka_consumer_partitions", "transport", name);
    }

    @Test
    void everyJobsTraceIsWholeOnOneAggregatorWithBothHostsSpans() throws Exception {
        int jobs = 30;
        List<Message> a = new ArrayList<>();
        List<Message> b = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            String tid = "job-" + j;
            long t = 1700000000000L + j * 100;
            a.add(decode(span("host-a", tid, "a" + j, null, "process_job", t)));
            a.add(decode(event("host-a", tid, j)));
            b.add(decode(span("host-b", tid, "b" + j, "a" + j, "file-receiver", t + 1)));
            b.add(decode(event("host-b", tid, 1000 + j)));
            b.add(decode(event("host-b", null, 2000 + j))); // no trace: keyed by source
        }
        KafkaBackend edgeA = edge("edge-a");
        KafkaBackend edgeB = edge("edge-b");
        CorrelationEngine agg1 = aggregator();
        CorrelationEngine agg2 = aggregator();
        KafkaSourceSettings s = FakeFramework.settings(KafkaSourceConfig.class, FakeFramework.props("bootstrap.servers",
                broker.bootstrapServers(), "topics", new String[] {"fleet"}, "group.id", "aggregators",
                "commit.interval.ms", "100"), KafkaSourceSettings::of);
        KafkaSource t1 = new KafkaSource("agg1", s, agg1, DECODER, new RejectCounters());
        KafkaSource t2 = new KafkaSource("agg2", s, agg2, DECODER, new RejectCounters());
        try {
            t1.start();
            t2.start();
            // both members hold partitions before anything is produced (else the first to join may
            // take all four and read everything before the group rebalances)
            KafkaSourceTest.await("2 + 2 partitions", () -> partitions(t1, "agg1") == 2 && partitions(t2, "agg2") == 2);
            edgeA.write(new Batch("host-a", a));
            edgeB.write(new Batch("host-b", b));
            int total = a.size() + b.size();
            KafkaSourceTest.await("every message ingested by the two aggregators",
                    () -> ingested(agg1) + ingested(agg2) == total);
            assertThat(ingested(agg1)).isPositive();
            assertThat(ingested(agg2)).isPositive();
            int on1 = 0;
            for (int j = 0; j < jobs; j++) {
                Optional<Trace> x = agg1.trace("job-" + j);
                Optional<Trace> y = agg2.trace("job-" + j);
                assertThat(x.isPresent() ^ y.isPresent()).as("job-%d on exactly one aggregator", j).isTrue();
                Trace trace = x.orElseGet(y::get);
                on1 += x.isPresent() ? 1 : 0;
                assertThat(trace.sources()).containsExactlyInAnyOrder("host-a", "host-b");
                assertThat(trace.spanCount()).isEqualTo(2);
                assertThat(trace.roots()).singleElement().satisfies(root -> {
                    assertThat(root.source()).isEqualTo("host-a");
                    assertThat(root.children()).singleElement().satisfies(child -> assertThat(child.source()).isEqualTo("host-b"));
                });
            }
            assertThat(on1).as("the jobs are spread over both aggregators").isBetween(1, jobs - 1);
        } finally {
            t1.stop();
            t2.stop();
            agg1.deactivate();
            agg2.deactivate();
            edgeA.close();
            edgeB.close();
        }
    }

    private static long ingested(CorrelationEngine e) {
        return (long) MetricSamples.of(e).value("signalbox_messages_ingested_total");
    }
}
