package io.signalbox.backend.kafka.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
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

import io.signalbox.api.AsyncBackend;
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
 * <p>It is an {@link AsyncBackend}: the routing channel hands it up to {@code max.in.flight} batches
 * ({@link #writeAsync}) and each batch completes when Kafka acknowledged all of its records, so an
 * edge's rate is no longer one batch per produce round trip. Records of batches in flight at once
 * stay in order per partition (the idempotent producer); a batch retried after a failure may land
 * after later ones.
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
public final class KafkaBackend implements BackendLifecycle.Instance<KafkaSettings>, AsyncBackend {
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
    /** A producer that failed fatally: replaced at the next send (set on the producer's I/O thread). */
    private volatile Producer<byte[], byte[]> renew;
    /** The batches that failed part-way and which of their records Kafka acknowledged. */
    private final Partials partials = new Partials();

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

    /**
     * New settings apply to the next batch: the producer is closed now (what is in flight completes
     * first, up to 5 s) and made anew.
     */
    @Override
    public synchronized void update(KafkaSettings s) {
        settings = s;
        closeProducer(Duration.ofSeconds(5));
    }

    /**
     * Writes the batch and waits for its acknowledgements: the routing channel's path with
     * {@code max.in.flight=1} and for replays from its spool. Flushes the producer, so that
     * {@code linger.ms} does not delay a batch nobody adds records to.
     */
    @Override
    public void write(Batch batch) throws Exception {
        CompletableFuture<Void> done = send(batch, true);
        try {
            done.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /**
     * Hands every record of the batch to the producer and returns; the stage completes once Kafka
     * acknowledged all of them, or fails as {@link #write} throws. Several batches may be outstanding:
     * the producer keeps each partition in order (idempotence with up to 5 requests in flight per
     * connection), and a batch's own acknowledgements are counted by its own {@link Outcome}.
     */
    @Override
    public CompletableFuture<Void> writeAsync(Batch batch) {
        return send(batch, false);
    }

    private synchronized CompletableFuture<Void> send(Batch batch, boolean flush) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("kafka backend \"" + name + "\" is closed"));
        }
        Producer<byte[], byte[]> p;
        try {
            p = producer();
        } catch (RuntimeException e) {
            // e.g. the producer cannot be made (a bootstrap address that does not resolve): retried
            return CompletableFuture.failedFuture(e);
        }
        List<Message> messages = batch.messages();
        Outcome outcome = new Outcome(batch, partials.take(batch), p);
        KafkaSettings s = settings;
        String source = batch.source();
        byte[] sourceBytes = source.getBytes(StandardCharsets.UTF_8);
        Header srcHeader = new RecordHeader(SRC, sourceBytes);
        String fixedTopic = s.topic().usesType() ? null : s.topic().topic(source, MessageType.EVENT);
        int sent = 0;
        try {
            for (int i = 0; i < messages.size(); i++) {
                if (outcome.acked.get(i)) {
                    continue; // acknowledged by an earlier attempt of this batch
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
                outcome.sending();
                p.send(new ProducerRecord<>(topic, null, null, key(s.key(), m, sourceBytes), line, headers),
                        outcome.callback(i, line.length));
                sent++;
            }
        } catch (RuntimeException e) {
            // send itself threw (producer closed or in a fatal state, serialisation): the records sent so
            // far complete or fail on their own; the batch fails once they did
            outcome.fail(e);
        }
        if (flush && sent > 0) {
            p.flush();
        }
        outcome.allSent();
        return outcome.done;
    }

    /** Called once every record sent for {@code o} completed: the batch's outcome, on the producer's I/O thread. */
    private void finish(Outcome o) {
        Batch batch = o.batch;
        int n = batch.size();
        records.add(o.count);
        bytes.add(o.bytes);
        Exception failure = o.failure.get();
        int done = o.acked.cardinality();
        if (failure == null && done == n) {
            LOG.debug("kafka {}: {} records of source {} acknowledged", name, o.count, batch.source());
            o.done.complete(null);
            return;
        }
        if (failure == null) {
            failure = new IllegalStateException(n - done + " records were not acknowledged");
        }
        failures.computeIfAbsent(failure.getClass().getSimpleName(), k -> new LongAdder()).increment();
        if (failure instanceof RecordTooLargeException || failure instanceof RecordBatchTooLargeException
                || failure instanceof InvalidTopicException) {
            o.done.completeExceptionally(new BatchRejectedException("Kafka refused a record of source " + batch.source()
                    + ": " + failure.getMessage() + (done > 0 ? " (" + done + " of this batch of " + n
                            + " had been acknowledged)" : ""), failure));
            return;
        }
        if (!(failure instanceof RetriableException) && !(failure instanceof org.apache.kafka.common.errors.TimeoutException)) {
            // e.g. a fatal idempotence error or an authentication failure: a fresh producer for the retry.
            // Not closed here (this may be the producer's own thread, and send() may hold the lock waiting for it)
            LOG.warn("kafka {}: producer error {}; the producer is made anew for the retry", name, failure.toString());
            renew = o.producer;
        }
        if (done > 0) {
            partials.keep(batch, o.acked);
        }
        o.done.completeExceptionally(new KafkaWriteException("kafka backend \"" + name + "\": " + (n - done) + " of " + n
                + " records of source " + batch.source() + " not acknowledged: " + failure, failure));
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
        if (producer != null && producer == renew) {
            closeProducer(Duration.ZERO);
        }
        renew = null;
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

    /**
     * The records of one batch in flight: which were acknowledged, the first failure, and how many
     * are still outstanding; {@link #finish} runs once the last of them completed.
     */
    private final class Outcome {
        final Batch batch;
        final BitSet acked;
        final Producer<byte[], byte[]> producer;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final AtomicReference<Exception> failure = new AtomicReference<>();
        /** Records sent and not completed, plus one until every record is sent. */
        private final AtomicInteger outstanding = new AtomicInteger(1);
        long count;
        long bytes;

        Outcome(Batch batch, BitSet acked, Producer<byte[], byte[]> producer) {
            this.batch = batch;
            this.acked = acked != null ? acked : new BitSet(batch.size());
            this.producer = producer;
        }

        void sending() {
            outstanding.incrementAndGet();
        }

        Callback callback(int index, int size) {
            return (RecordMetadata metadata, Exception e) -> {
                // on the producer's I/O thread (or in send() for a record that failed at once)
                synchronized (this) {
                    if (e == null) {
                        acked.set(index);
                        count++;
                        bytes += size;
                    } else {
                        failure.compareAndSet(null, e);
                    }
                }
                completed();
            };
        }

        void fail(Exception e) {
            failure.compareAndSet(null, e);
        }

        /** Every record of the batch was handed to the producer (or the send stopped). */
        void allSent() {
            completed();
        }

        private void completed() {
            if (outstanding.decrementAndGet() == 0) {
                synchronized (this) { // the callbacks' writes are seen here
                    finish(this);
                }
            }
        }
    }

    /**
     * The batches that failed part-way, with the records Kafka acknowledged, so that the channel's
     * retry of the same batch (the same object) does not send those again. A batch that goes to
     * the spool instead is replayed whole; the oldest entries are dropped beyond {@value #MAX}.
     */
    private static final class Partials {
        private static final int MAX = 64;
        private final List<Batch> batches = new ArrayList<>();
        private final List<BitSet> acked = new ArrayList<>();

        synchronized void keep(Batch batch, BitSet done) {
            if (batches.size() == MAX) {
                batches.remove(0);
                acked.remove(0);
            }
            batches.add(batch);
            acked.add(done);
        }

        /** The acknowledged records of an earlier attempt of {@code batch} (removed), or {@code null}. */
        synchronized BitSet take(Batch batch) {
            for (int i = 0; i < batches.size(); i++) {
                if (batches.get(i) == batch) {
                    batches.remove(i);
                    return acked.remove(i);
                }
            }
            return null;
        }
    }
}
