package io.signalbox.backend.kafka.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricsSink;

/**
 * Produces every message of a batch as one Kafka record and returns once Kafka acknowledged every
 * one of them (with the configured {@code acks}, {@code all} by default): the value is the
 * message's line as received (the same array, no copy, no re-serialisation), the headers
 * {@code src} and {@code type}, the key the trace id (else the source) so that every message of a
 * trace lands in one partition, in order.
 *
 * <p>If any record fails, the write throws and the routing channel retries the batch (back-off,
 * breaker, spool): a Kafka outage loses nothing. The records of that batch Kafka did acknowledge are
 * not sent again when the channel retries the same batch; a batch replayed from the spool is sent
 * whole, so an outage can duplicate at most the acknowledged part of the batches that were in flight
 * when it began. A record Kafka refuses for good (too large, invalid topic) makes the batch
 * {@link BatchRejectedException rejected}: routing dead-letters it.
 *
 * <p>The producer is made on the first write (and again after a change of settings or a fatal
 * producer error) with the bundle's class loader as the thread's context class loader: kafka-clients
 * loads configured classes (SASL login modules, config providers) through it.
 */
public final class KafkaBackend implements BackendLifecycle.Instance<KafkaSettings> {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBackend.class);
    private static final String SRC = "src";
    private static final String TYPE = "type";
    private static final Header[] TYPE_HEADERS = new Header[MessageType.values().length];
    private static final byte[][] TYPE_BYTES = new byte[MessageType.values().length][];

    static {
        for (MessageType t : MessageType.values()) {
            TYPE_BYTES[t.ordinal()] = t.wireName().getBytes(StandardCharsets.UTF_8);
            TYPE_HEADERS[t.ordinal()] = new RecordHeader(TYPE, TYPE_BYTES[t.ordinal()]);
        }
    }

    private final String name;
    private volatile KafkaSettings settings;
    /** Guarded by {@code this}. */
    private Producer<byte[], byte[]> producer;
    private boolean closed;
    /** Guarded by {@code this}: the batch that failed part-way and which of its records Kafka acknowledged. */
    private Batch partial;
    private BitSet partialAcked;

    private final LongAdder records = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();

    /** A backend for validated settings ({@link KafkaSettings#of}); the producer is made on the first write. */
    public KafkaBackend(String name, KafkaSettings settings) {
        this.name = name;
        this.settings = settings;
    }

    public String name() {
        return name;
    }

    KafkaSettings settings() {
        return settings;
    }

    /** New settings apply to the next batch: the producer is closed now (no write is in flight) and made anew. */
    @Override
    public synchronized void update(KafkaSettings s) {
        settings = s;
        closeProducer(Duration.ofSeconds(5));
    }

    @Override
    public synchronized void write(Batch batch) throws Exception {
        if (closed) {
            throw new IllegalStateException("kafka backend \"" + name + "\" is closed");
        }
        List<Message> messages = batch.messages();
        int n = messages.size();
        BitSet acked = partial == batch ? partialAcked : new BitSet(n);
        partial = null;
        partialAcked = null;
        Producer<byte[], byte[]> p = producer();
        KafkaSettings s = settings;
        Outcome outcome = new Outcome(acked);
        String source = batch.source();
        byte[] sourceBytes = source.getBytes(StandardCharsets.UTF_8);
        Header srcHeader = new RecordHeader(SRC, sourceBytes);
        String fixedTopic = s.topic().usesType() ? null : s.topic().topic(source, MessageType.EVENT);
        int sent = 0;
        try {
            for (int i = 0; i < n; i++) {
                if (acked.get(i)) {
                    continue;
                }
                if (outcome.failure.get() != null) {
                    // a send that failed at once (no metadata within max.block.ms: send() does not throw
                    // then, it completes the callback with the error) fails the batch: the rest waits for
                    // the retry rather than each record blocking max.block.ms against a broker that is away
                    break;
                }
                Message m = messages.get(i);
                String topic = fixedTopic != null ? fixedTopic : s.topic().topic(source, m.type());
                byte[] line = m.line();
                List<Header> headers = s.headers() ? List.of(srcHeader, TYPE_HEADERS[m.type().ordinal()]) : null;
                // the event time stays in the line; the record's timestamp is the producer's, so a client
                // clock hours off cannot make the broker refuse a record (log.message.timestamp.*.max.ms)
                p.send(new ProducerRecord<>(topic, null, null, key(s.key(), m, sourceBytes), line, headers),
                        outcome.callback(i, line.length));
                sent++;
            }
        } catch (RuntimeException e) {
            // send itself threw (producer closed or in a fatal state, serialisation): the records sent so
            // far complete or fail below
            outcome.fail(e);
        }
        if (sent > 0) {
            p.flush();
        }
        Exception failure = outcome.failure.get();
        records.add(outcome.count);
        bytes.add(outcome.bytes);
        if (failure == null && acked.cardinality() == n) {
            LOG.debug("kafka {}: {} records of source {} acknowledged", name, sent, source);
            return;
        }
        if (failure == null) {
            failure = new IllegalStateException(n - acked.cardinality() + " records were not acknowledged");
        }
        failures.computeIfAbsent(failure.getClass().getSimpleName(), k -> new LongAdder()).increment();
        int done = acked.cardinality();
        if (failure instanceof RecordTooLargeException || failure instanceof RecordBatchTooLargeException
                || failure instanceof InvalidTopicException) {
            throw new BatchRejectedException("Kafka refused a record of source " + source + ": " + failure.getMessage()
                    + (done > 0 ? " (" + done + " of this batch of " + n + " had been acknowledged)" : ""), failure);
        }
        if (!(failure instanceof RetriableException) && !(failure instanceof org.apache.kafka.common.errors.TimeoutException)) {
            // e.g. a fatal idempotence error or an authentication failure: a fresh producer for the retry
            LOG.warn("kafka {}: producer error {}; the producer is made anew for the retry", name, failure.toString());
            closeProducer(Duration.ZERO);
        }
        if (done > 0) {
            partial = batch;
            partialAcked = acked;
        }
        throw new KafkaWriteException("kafka backend \"" + name + "\": " + (n - done) + " of " + n + " records of source "
                + source + " not acknowledged: " + failure, failure);
    }

    /** The record key: trace id (else source), source, or none. */
    static byte[] key(String mode, Message m, byte[] sourceBytes) {
        switch (mode) {
            case "tid":
                String tid = m.traceId();
                return tid != null ? tid.getBytes(StandardCharsets.UTF_8) : sourceBytes;
            case "src":
                return sourceBytes;
            default:
                return null;
        }
    }

    private Producer<byte[], byte[]> producer() {
        if (producer == null) {
            Map<String, Object> props = new HashMap<>(settings.producer());
            props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "signalbox-" + name);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(KafkaBackend.class.getClassLoader());
            try {
                producer = new KafkaProducer<>(props);
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
            LOG.info("kafka {}: producer connected to {}", name, settings.bootstrapServers());
        }
        return producer;
    }

    private void closeProducer(Duration timeout) {
        Producer<byte[], byte[]> p = producer;
        producer = null;
        if (p != null) {
            try {
                p.close(timeout);
            } catch (RuntimeException e) {
                LOG.warn("kafka {}: closing the producer failed", name, e);
            }
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        sink.counter("signalbox_kafka_records_total", records.sum(), "backend", name);
        sink.counter("signalbox_kafka_bytes_total", bytes.sum(), "backend", name);
        failures.forEach((error, count) -> sink.counter("signalbox_kafka_failures_total", count.sum(), "backend", name,
                "error", error));
    }

    /** Flushes what is in flight (up to 10 s) and closes the producer; writes after this throw. */
    @Override
    public synchronized void close() {
        closed = true;
        closeProducer(Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
        return "KafkaBackend[" + name + " → " + settings.bootstrapServers() + "/" + settings.topic() + "]";
    }

    /** A write that failed for a reason a retry may overcome; the cause is Kafka's. */
    static final class KafkaWriteException extends Exception {
        private static final long serialVersionUID = 1L;

        KafkaWriteException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The callbacks of one write: which records were acknowledged, the first failure. */
    private static final class Outcome {
        final BitSet acked;
        final AtomicReference<Exception> failure = new AtomicReference<>();
        long count;
        long bytes;

        Outcome(BitSet acked) {
            this.acked = acked;
        }

        Callback callback(int index, int size) {
            return (RecordMetadata metadata, Exception e) -> {
                // callbacks run on the producer's I/O thread; flush() makes them visible to the writer
                synchronized (this) {
                    if (e == null) {
                        acked.set(index);
                        count++;
                        bytes += size;
                    } else {
                        failure.compareAndSet(null, e);
                    }
                }
            };
        }

        void fail(Exception e) {
            failure.compareAndSet(null, e);
        }
    }
}
