package io.signalbox.backend.kafka.internal;

import static io.signalbox.backend.kafka.internal.Fixtures.event;
import static io.signalbox.backend.kafka.internal.Fixtures.metric;
import static io.signalbox.backend.kafka.internal.Fixtures.props;
import static io.signalbox.backend.kafka.internal.Fixtures.settings;
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

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MetricSamples;

/** The backend against a real single-node KRaft broker ({@link KafkaBroker}). */
class KafkaBackendTest {
    @TempDir
    static Path dir;
    static KafkaBroker broker;

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

    private static String topic() throws Exception {
        String t = "t" + UUID.randomUUID().toString().replace("-", "");
        broker.createTopic(t, 4);
        return t;
    }

    private static KafkaBackend backend(String topic, Object... more) {
        Map<String, Object> p = new HashMap<>(props("bootstrap.servers", broker.bootstrapServers(), "topic", topic));
        p.putAll(props(more));
        return new KafkaBackend("k", settings(p));
    }

    static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int expected) {
        Map<String, Object> c = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "check-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            // read until the expected count, then once more to see that nothing else follows
            boolean extra = false;
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
                if (out.size() >= expected) {
                    if (extra) {
                        break;
                    }
                    extra = true;
                }
            }
        }
        return out;
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void everyMessageIsOneRecordWithTheLineAsValueSrcAndTypeHeadersAndTheTraceIdAsKey() throws Exception {
        String topic = topic();
        KafkaBackend b = backend(topic);
        try {
            List<Message> messages = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                messages.add(event("edge-a", i % 2 == 0 ? "job-" + (i % 4) : null, i));
            }
            b.write(new Batch("edge-a", messages));

            List<ConsumerRecord<byte[], byte[]>> records = consume(topic, 40);
            assertThat(records).hasSize(40);
            Map<String, Integer> partitionOfKey = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                assertThat(text(r.headers().lastHeader("src").value())).isEqualTo("edge-a");
                assertThat(text(r.headers().lastHeader("type").value())).isEqualTo("event");
                Integer before = partitionOfKey.putIfAbsent(text(r.key()), r.partition());
                assertThat(before == null || before == r.partition()).as("one key, one partition").isTrue();
            }
            assertThat(records.stream().map(r -> text(r.value())).toList())
                    .containsExactlyInAnyOrderElementsOf(messages.stream().map(Message::toString).toList());
            // keyed by trace id, else by source
            assertThat(partitionOfKey.keySet()).containsExactlyInAnyOrder("job-0", "job-2", "edge-a");
            // within a key (one partition) the order is the batch's
            List<String> job0 = records.stream().filter(r -> "job-0".equals(text(r.key()))).map(r -> text(r.value())).toList();
            assertThat(job0).containsExactlyElementsOf(messages.stream().filter(m -> "job-0".equals(m.traceId()))
                    .map(Message::toString).toList());
            MetricSamples m = MetricSamples.of(b);
            assertThat(m.value("signalbox_kafka_records_total", "backend", "k")).isEqualTo(40);
        } finally {
            b.close();
        }
    }

    @Test
    void keySrcTypeTopicsAndNoHeadersAreHonoured() throws Exception {
        String base = "tt" + UUID.randomUUID().toString().replace("-", "");
        broker.createTopic(base + ".event", 4);
        broker.createTopic(base + ".metric", 4);
        KafkaBackend b = backend(base + ".{type}", "key", "src", "headers", "false", "compression", "zstd");
        try {
            b.write(new Batch("svc", List.of(event("svc", "trace-1", 1), metric("svc", 2), event("svc", null, 3))));
            List<ConsumerRecord<byte[], byte[]>> events = consume(base + ".event", 2);
            List<ConsumerRecord<byte[], byte[]>> metrics = consume(base + ".metric", 1);
            assertThat(events).hasSize(2).allSatisfy(r -> {
                assertThat(text(r.key())).isEqualTo("svc");
                assertThat(r.headers().toArray()).isEmpty();
            });
            assertThat(metrics).hasSize(1);
            assertThat(text(metrics.get(0).value())).contains("\"type\":\"metric\"");
        } finally {
            b.close();
        }
    }

    @Test
    void batchesInFlightAtOnceCompleteWhenTheirRecordsAreAcknowledgedAndKeepEachTracesOrder() throws Exception {
        String topic = topic();
        KafkaBackend b = backend(topic);
        try {
            List<Message> all = new ArrayList<>();
            List<java.util.concurrent.CompletableFuture<Void>> stages = new ArrayList<>();
            for (int batch = 0; batch < 8; batch++) {
                List<Message> messages = new ArrayList<>();
                for (int i = batch * 50; i < batch * 50 + 50; i++) {
                    messages.add(event("edge-a", "job-" + (i % 4), i));
                }
                all.addAll(messages);
                stages.add(b.writeAsync(new Batch("edge-a", messages))); // no waiting: all 8 in flight
            }
            for (java.util.concurrent.CompletableFuture<Void> stage : stages) {
                stage.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertThat(MetricSamples.of(b).value("signalbox_kafka_records_total", "backend", "k")).isEqualTo(400);

            List<ConsumerRecord<byte[], byte[]>> records = consume(topic, 400);
            assertThat(records.stream().map(r -> text(r.value())).toList()).as("every record once")
                    .containsExactlyInAnyOrderElementsOf(all.stream().map(Message::toString).toList());
            for (int job = 0; job < 4; job++) {
                String key = "job-" + job;
                List<String> got = records.stream().filter(r -> key.equals(text(r.key()))).map(r -> text(r.value())).toList();
                assertThat(got).as("trace %s in the order of its batches", key).containsExactlyElementsOf(
                        all.stream().filter(m -> key.equals(m.traceId())).map(Message::toString).toList());
            }
        } finally {
            b.close();
        }
    }

    @Test
    void anAsynchronousWriteDuringAnOutageFailsItsStageAndTheRetryDoesNotResendWhatWasAcknowledged() throws Exception {
        String topic = topic();
        KafkaBackend b = backend(topic, "max.block.ms", "2000", "request.timeout.ms", "2000", "delivery.timeout.ms", "4000",
                "linger.ms", "0");
        try {
            b.writeAsync(new Batch("svc", List.of(event("svc", "t", 0)))).get(60, java.util.concurrent.TimeUnit.SECONDS);
            broker.stop();
            List<Message> messages = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                messages.add(event("svc", "t" + i, i));
            }
            Batch batch = new Batch("svc", messages);
            assertThatThrownBy(() -> b.writeAsync(batch).get(60, java.util.concurrent.TimeUnit.SECONDS))
                    .hasCauseInstanceOf(KafkaBackend.KafkaWriteException.class).hasMessageContaining("not acknowledged");

            broker.start();
            b.writeAsync(batch).get(60, java.util.concurrent.TimeUnit.SECONDS); // the channel's retry: the same batch
            List<ConsumerRecord<byte[], byte[]>> records = consume(topic, 21);
            assertThat(records.stream().map(r -> text(r.value())).toList()).hasSize(21).doesNotHaveDuplicates();
        } finally {
            b.close();
        }
    }

    @Test
    void aBrokerOutageFailsTheWriteAndTheRetryAfterItDeliversEveryRecordOnce() throws Exception {
        String topic = topic();
        KafkaBackend b = backend(topic, "max.block.ms", "2000", "request.timeout.ms", "2000", "delivery.timeout.ms", "4000",
                "linger.ms", "0");
        try {
            b.write(new Batch("svc", List.of(event("svc", "t", 0)))); // producer connected, metadata known
            broker.stop();
            List<Message> messages = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                messages.add(event("svc", "t" + i, i));
            }
            Batch batch = new Batch("svc", messages);
            assertThatThrownBy(() -> b.write(batch)).isInstanceOf(KafkaBackend.KafkaWriteException.class)
                    .hasMessageContaining("not acknowledged");
            assertThat(MetricSamples.of(b).value("signalbox_kafka_records_total", "backend", "k")).isEqualTo(1);

            broker.start();
            b.write(batch); // what the routing channel does: the same batch again
            List<ConsumerRecord<byte[], byte[]>> records = consume(topic, 21);
            assertThat(records.stream().map(r -> text(r.value())).toList()).hasSize(21).doesNotHaveDuplicates();
        } finally {
            b.close();
        }
    }

    /**
     * Found by the distribution's KafkaFleetIT: the broker goes away under a steady stream of writes
     * (as on an edge). The producer then has no metadata for the topic, and {@code send()} does not
     * throw after waiting {@code max.block.ms} for it: it fails that record's callback and returns, so
     * the write went on to the next record and waited again, once per record of the batch (50 s for
     * 50 records here, 1,000 s for 100 with the defaults), and the routing channel's breaker never
     * opened. Every write during the outage must fail after one such wait (a hang is the bug; the
     * bound of the waits below only catches it), and once the broker is back the retried batches
     * deliver every record, at most the one batch in flight when the broker went twice.
     */
    @Test
    void writesKeepFailingWhileTheBrokerStaysDownAndAfterItsReturnEveryRecordArrives() throws Exception {
        String topic = topic();
        KafkaBackend b = backend(topic, "max.block.ms", "1000", "request.timeout.ms", "1000", "delivery.timeout.ms", "2000");
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean halt = new java.util.concurrent.atomic.AtomicBoolean();
        int perBatch = 50;
        java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            // what a routing channel does: one batch at a time, a failed one again until it is written
            java.util.concurrent.Future<Integer> batches = writer.submit(() -> {
                int n = 0;
                while (!halt.get()) {
                    List<Message> messages = new ArrayList<>();
                    for (int i = 0; i < perBatch; i++) {
                        messages.add(event("svc", "t" + (n * perBatch + i), n * perBatch + i));
                    }
                    Batch batch = new Batch("svc", messages);
                    while (true) {
                        try {
                            b.write(batch);
                            written.incrementAndGet();
                            break;
                        } catch (KafkaBackend.KafkaWriteException e) {
                            failures.incrementAndGet();
                            Thread.sleep(50);
                        }
                    }
                    n++;
                }
                return n;
            });
            java.util.function.BooleanSupplier writing = () -> written.get() > 0;
            awaitTrue(writing, "the first writes");
            int before = written.get();
            awaitTrue(() -> written.get() >= before + 20, "20 more writes");
            broker.stop();
            // a hang shows as no further failures: every write while the broker is down must fail
            awaitTrue(() -> failures.get() >= 3, "three failed writes while the broker is down");
            broker.start();
            int failed = failures.get();
            int atRestart = written.get();
            awaitTrue(() -> written.get() >= atRestart + 5, "writes after the broker is back");
            halt.set(true);
            int total = batches.get(60, java.util.concurrent.TimeUnit.SECONDS) * perBatch;
            List<ConsumerRecord<byte[], byte[]>> records = consume(topic, total);
            Map<String, Integer> counts = new HashMap<>();
            records.forEach(r -> counts.merge(text(r.value()), 1, Integer::sum));
            long duplicates = records.size() - counts.size();
            assertThat(failed).as("failed writes during the outage").isGreaterThanOrEqualTo(3);
            assertThat(counts).as("every record written").hasSize(total);
            assertThat(duplicates).as("records written twice: at most the batch in flight when the broker went")
                    .isLessThanOrEqualTo(perBatch);
        } finally {
            halt.set(true);
            writer.shutdownNow();
            b.close();
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("%s within 60 s", what).isTrue();
            Thread.sleep(20);
        }
    }

    @Test
    void aRecordLargerThanTheProducerAllowsRejectsTheBatchForTheDeadLetterFile() throws Exception {
        String topic = topic();
        KafkaBackend b = backend(topic, "kafka.max.request.size", "1024");
        try {
            byte[] big = ("{\"v\":1,\"src\":\"svc\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\""
                    + "x".repeat(4000) + "\"}}").getBytes(StandardCharsets.UTF_8);
            Message m = new Message("svc", 1, io.signalbox.api.MessageType.EVENT, null, null, null, "info", null, big);
            assertThatThrownBy(() -> b.write(new Batch("svc", List.of(m)))).isInstanceOf(BatchRejectedException.class)
                    .hasMessageContaining("Kafka refused a record of source svc");
        } finally {
            b.close();
        }
    }
}
