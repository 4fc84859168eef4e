package io.signalbox.transport.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.DropReason;
import io.signalbox.api.FakeFramework;
import io.signalbox.api.FakeIngest;
import io.signalbox.api.MetricSamples;
import io.signalbox.backend.kafka.internal.KafkaBroker;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.RejectCounters;

/** The transport against a real single-node KRaft broker. */
class KafkaSourceTest {
    @TempDir
    static Path dir;
    static KafkaBroker broker;
    private final List<KafkaSource> running = new ArrayList<>();
    private final List<FakeIngest> ingests = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.start(dir);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @AfterEach
    void stopSources() throws InterruptedException {
        for (KafkaSource s : running) {
            s.stop();
        }
        ingests.forEach(FakeIngest::close);
    }

    static String line(String src, int i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1700000000000L + i) + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m"
                + i + "\"}}";
    }

    /** Writes {@code values} to the topic; every record must be acknowledged (else a test would wait for lines never written). */
    static void produce(String topic, List<String> values) throws Exception {
        // one request in flight per connection: on a busy machine the first batch to a just-created
        // partition got NOT_LEADER_OR_FOLLOWER although the topic's partitions already had leaders, the
        // next batches (sent behind it) OUT_OF_ORDER_SEQUENCE_NUMBER, and the idempotent producer kept
        // retrying them until its 120 s delivery timeout (CI, twice); one at a time, the first batch is
        // retried before any other is sent
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            int i = 0;
            for (String v : values) {
                sent.add(producer.send(new ProducerRecord<>(topic, ("k" + (i++ % 64)).getBytes(StandardCharsets.UTF_8),
                        v == null ? null : v.getBytes(StandardCharsets.UTF_8))));
            }
        }
        for (java.util.concurrent.Future<?> f : sent) {
            f.get(); // throws if Kafka did not take the record
        }
    }

    private static String topic() throws Exception {
        String t = "t" + UUID.randomUUID().toString().replace("-", "");
        broker.createTopic(t, 4);
        return t;
    }

    private static KafkaSourceSettings settings(String topic, String group, Object... more) {
        Map<String, Object> m = new HashMap<>(FakeFramework.props("bootstrap.servers", broker.bootstrapServers(),
                "topics", new String[] {topic}, "group.id", group, "commit.interval.ms", "100", "close.timeout.ms", "500"));
        m.putAll(FakeFramework.props(more));
        return FakeFramework.settings(KafkaSourceConfig.class, m, KafkaSourceSettings::of);
    }

    private KafkaSource start(String name, KafkaSourceSettings s, FakeIngest ingest) {
        KafkaSource source = new KafkaSource(name, s, ingest, new LineDecoder(), new RejectCounters());
        running.add(source);
        source.start();
        return source;
    }

    private FakeIngest ingest() {
        FakeIngest i = new FakeIngest();
        ingests.add(i);
        return i;
    }

    static long committed(String group) throws Exception {
        try (var admin = broker.admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            return offsets.values().stream().filter(o -> o != null).mapToLong(OffsetAndMetadata::offset).sum();
        }
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 60 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void validLinesAreOfferedAndBadOnesCountedAndOffsetsAreCommittedOnlyAfterDelivery() throws Exception {
        String topic = topic();
        String group = "g-" + UUID.randomUUID();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            values.add(line("edge", i));
        }
        values.add("not json");
        values.add(null);
        values.add("{\"v\":1,\"src\":\"edge\",\"type\":\"event\",\"data\":{}}"); // no ts
        produce(topic, values);
        FakeIngest ingest = ingest();
        ingest.holdDeliveries(true);
        KafkaSource source = start("a", settings(topic, group), ingest);

        await("100 offered", () -> ingest.count() == 100);
        assertThat(ingest.lines()).containsExactlyInAnyOrderElementsOf(values.subList(0, 100));
        MetricSamples m = MetricSamples.of(source);
        assertThat(m.value(RejectCounters.SERIES, "reason", DropReason.MALFORMED.label())).isEqualTo(2);
        assertThat(m.value(RejectCounters.SERIES, "reason", DropReason.MISSING_FIELD.label())).isEqualTo(1);
        Thread.sleep(500); // several commit intervals pass
        assertThat(committed(group)).as("nothing delivered, nothing committed beyond the dropped lines' partitions' heads")
                .isLessThanOrEqualTo(3);

        ingest.deliverHeld(Integer.MAX_VALUE);
        await("every offset committed", () -> {
            try {
                return committed(group) == 103;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(MetricSamples.of(source).value("signalbox_kafka_consumer_uncommitted", "transport", "a")).isZero();
    }

    @Test
    void aStopWithUndeliveredMessagesCommitsOnlyUpToThemAndTheGroupReadsThemAgain() throws Exception {
        String topic = topic();
        String group = "g-" + UUID.randomUUID();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            values.add(line("edge", i));
        }
        produce(topic, values);
        FakeIngest first = ingest();
        first.holdDeliveries(true);
        KafkaSource a = start("a", settings(topic, group), first);
        await("200 offered", () -> first.count() == 200);
        first.deliverHeld(120); // offer order = per-partition offset order
        a.stop(); // close.timeout.ms=500: the other 80 stay undelivered
        running.remove(a);
        long committed = committed(group);
        // delivered in offer order, which is offset order per partition: exactly the first 120 are behind the commit
        assertThat(committed).isEqualTo(120);

        FakeIngest second = ingest();
        start("b", settings(topic, group), second);
        await("the rest read again", () -> second.count() == 200 - committed);
        // at-least-once: together every line; the duplicates are exactly the 80 read and not delivered before the stop
        List<String> all = new ArrayList<>(first.lines());
        all.addAll(second.lines());
        assertThat(all).containsAll(values);
        assertThat(all.size() - values.size()).isEqualTo(80);
    }

    @Test
    void readingPausesAtMaxUncommittedAndResumesWhenDelivered() throws Exception {
        String topic = topic();
        String group = "g-" + UUID.randomUUID();
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            values.add(line("edge", i));
        }
        produce(topic, values);
        FakeIngest ingest = ingest();
        ingest.holdDeliveries(true);
        KafkaSource source = start("a", settings(topic, group, "max.uncommitted", "100", "max.poll.records", "20"), ingest);
        await("first reads", () -> ingest.count() >= 100);
        Thread.sleep(1000);
        assertThat(ingest.count()).as("max.uncommitted + one poll").isLessThan(100 + 20);
        assertThat(MetricSamples.of(source).value("signalbox_kafka_consumer_paused", "transport", "a")).isEqualTo(1);

        // deliver as they come until everything is read
        await("all 1000 read", () -> {
            ingest.deliverHeld(Integer.MAX_VALUE);
            return ingest.count() == 1000;
        });
        assertThat(ingest.lines()).containsExactlyInAnyOrderElementsOf(values);
    }

    @Test
    void aPipelineAboveItsHighWaterMarkPausesReading() throws Exception {
        String topic = topic();
        String group = "g-" + UUID.randomUUID();
        FakeIngest ingest = ingest();
        KafkaSource source = start("a", settings(topic, group), ingest);
        produce(topic, List.of(line("edge", 0)));
        await("first read", () -> ingest.count() == 1);
        ingest.setWritable(false);
        await("paused", () -> MetricSamples.of(source).value("signalbox_kafka_consumer_paused", "transport", "a") == 1);
        produce(topic, List.of(line("edge", 1), line("edge", 2)));
        Thread.sleep(1000);
        assertThat(ingest.count()).isEqualTo(1);
        ingest.setWritable(true);
        await("resumed", () -> ingest.count() == 3);
    }

    @Test
    void twoInstancesOfOneGroupShareThePartitionsAndTheSurvivorTakesAllOver() throws Exception {
        String topic = topic();
        String group = "g-" + UUID.randomUUID();
        FakeIngest ia = ingest();
        FakeIngest ib = ingest();
        KafkaSource a = start("a", settings(topic, group), ia);
        KafkaSource b = start("b", settings(topic, group), ib);
        await("2 + 2 partitions", () -> MetricSamples.of(a).value("signalbox_kafka_consumer_partitions", "transport", "a") == 2
                && MetricSamples.of(b).value("signalbox_kafka_consumer_partitions", "transport", "b") == 2);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            values.add(line("edge", i));
        }
        produce(topic, values);
        await("all read", () -> ia.count() + ib.count() == 400);
        assertThat(ia.count()).isPositive();
        assertThat(ib.count()).isPositive();

        a.stop();
        running.remove(a);
        await("b has all 4", () -> MetricSamples.of(b).value("signalbox_kafka_consumer_partitions", "transport", "b") == 4);
        List<String> more = new ArrayList<>();
        for (int i = 400; i < 500; i++) {
            more.add(line("edge", i));
        }
        produce(topic, more);
        await("b reads the rest", () -> ia.count() + ib.count() == 500);
        List<String> all = new ArrayList<>(ia.lines());
        all.addAll(ib.lines());
        assertThat(all).containsExactlyInAnyOrderElementsOf(concat(values, more));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void settingsRejectWhatTheTransportSetsItselfAndUnknownConsumerProperties() {
        assertThatThrownBy(() -> settings("t", "g", "kafka.enable.auto.commit", "true", "kafka.group.id", "x",
                "kafka.fetch.min.bites", "1", "max.uncommitted", "0"))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'kafka.enable.auto.commit' cannot be configured")
                .hasMessageContaining("'kafka.group.id' is set by 'group.id'")
                .hasMessageContaining("'kafka.fetch.min.bites' is not a Kafka consumer property")
                .hasMessageContaining("'max.uncommitted' must be 1..10000000, is 0");
        KafkaSourceSettings listText = settings("t", "g", "topics", "[\"a\", \"b.c\"]");
        assertThat(listText.topics()).containsExactly("a", "b.c");
        assertThatThrownBy(() -> settings("t", "g", "topics", "a/b")).hasMessageContaining("'topics' entry \"a/b\" is not a valid Kafka topic name");
        KafkaSourceSettings s = settings("t", "g", "kafka.fetch.min.bytes", "1024");
        assertThat(s.consumer()).containsEntry("fetch.min.bytes", "1024").containsEntry("enable.auto.commit", false);
        assertThat(s.describe()).contains("kafka.fetch.min.bytes");
    }
}
