package io.signalbox.transport.kafka.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.DropReason;
import io.signalbox.api.Ingest;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.RejectCounters;

/**
 * One consumer group member on its own thread: every record's value is one protocol line, decoded
 * and validated like a TCP line and offered to {@link Ingest} with a delivered callback
 * ({@link OffsetTracker}). Offsets are committed (synchronously, every {@code commit.interval.ms},
 * when a partition is revoked and on stop) only up to the first record whose message routing has
 * not yet written or spooled: at-least-once. A crash re-reads at most what was read and not
 * committed, which reading keeps below {@code max.uncommitted} (+ one poll, {@code max.poll.records}).
 *
 * <p>Back-pressure: while the pipeline is not writable, or {@code max.uncommitted} records wait for
 * their commit, every assigned partition is paused (the consumer keeps polling, so it stays in the
 * group) and resumed when there is room again.
 */
final class KafkaSource implements StatsSource {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final KafkaSourceSettings settings;
    private final Ingest ingest;
    private final LineDecoder decoder;
    private final RejectCounters rejects;
    private final OffsetTracker tracker = new OffsetTracker();
    private final Thread thread;
    private final LogLimiter errorLog = new LogLimiter();
    private volatile boolean running = true;
    /** Set when an offer reported the pipeline full; cleared by the whenWritable callback. */
    private volatile boolean blocked;
    private volatile boolean paused;
    private volatile int assigned;
    /** Consumer thread only. */
    private Consumer<byte[], byte[]> consumer;
    private long lastCommitNanos = System.nanoTime();

    private final LongAdder records = new LongAdder();
    private final LongAdder offered = new LongAdder();
    private final LongAdder commits = new LongAdder();
    private final LongAdder commitFailures = new LongAdder();
    private final LongAdder rebalances = new LongAdder();
    private final LongAdder pauses = new LongAdder();

    KafkaSource(String name, KafkaSourceSettings settings, Ingest ingest, LineDecoder decoder, RejectCounters rejects) {
        this.name = name;
        this.settings = settings;
        this.ingest = ingest;
        this.decoder = decoder;
        this.rejects = rejects;
        this.thread = new Thread(this::run, "signalbox-kafka-" + name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /**
     * Stops reading, waits up to {@code close.timeout.ms} for what was read to be delivered, commits
     * it and leaves the group (its partitions go to the other members).
     */
    void stop() throws InterruptedException {
        running = false;
        Consumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        thread.join(settings.closeTimeout().toMillis() + COMMIT_TIMEOUT.toMillis() + 30_000);
        if (thread.isAlive()) {
            LOG.error("kafka transport {}: the consumer thread did not end; its offsets may not be committed", name);
        }
    }

    private void run() {
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(KafkaSource.class.getClassLoader());
        try {
            consumer = new KafkaConsumer<>(settings.consumer());
        } catch (KafkaException e) {
            LOG.error("kafka transport {}: the consumer could not be made; nothing is read", name, e);
            return;
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
        LOG.info("kafka transport {} started: {}", name, settings.describe());
        try {
            consumer.subscribe(settings.topics(), new Rebalance());
            while (running) {
                try {
                    loop();
                } catch (WakeupException e) {
                    // stop() woke the poll up: the loop condition ends it
                } catch (KafkaException e) {
                    long suppressed = errorLog.acquire();
                    if (suppressed >= 0) {
                        LOG.error("kafka transport {}: consumer error ({} more suppressed); retrying in 1 s", name, suppressed, e);
                    }
                    sleep(1000);
                }
            }
        } finally {
            close();
        }
    }

    private void loop() {
        boolean wantPause = blocked || !ingest.isWritable() || tracker.uncommitted() >= settings.maxUncommitted();
        if (wantPause != paused) {
            Set<TopicPartition> all = consumer.assignment();
            if (wantPause) {
                consumer.pause(all);
                pauses.increment();
                LOG.debug("kafka transport {}: reading paused ({} uncommitted, pipeline writable: {})", name,
                        tracker.uncommitted(), ingest.isWritable());
            } else {
                consumer.resume(all);
            }
            paused = wantPause;
        }
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(POLL);
        for (ConsumerRecord<byte[], byte[]> r : polled) {
            take(r);
        }
        long now = System.nanoTime();
        if (now - lastCommitNanos >= settings.commitInterval().toNanos()
                || tracker.uncommitted() >= settings.maxUncommitted()) {
            commit();
            lastCommitNanos = now;
        }
    }

    /** Decodes and offers one record, or counts why it is dropped. */
    void take(ConsumerRecord<byte[], byte[]> r) {
        records.increment();
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        byte[] v = r.value();
        if (v == null) {
            tracker.add(tp, r.offset(), true);
            rejects.record(DropReason.MALFORMED, "record without a value", where(r));
            return;
        }
        int len = v.length;
        if (len > 0 && v[len - 1] == '\n') {
            len--;
        }
        if (len > settings.maxLineLength()) {
            tracker.add(tp, r.offset(), true);
            rejects.record(DropReason.TOO_LONG, "line longer than max.line.length=" + settings.maxLineLength() + " bytes", where(r));
            return;
        }
        DecodeResult d = decoder.decode(v, 0, len);
        Message m = d.message();
        if (m == null) {
            tracker.add(tp, r.offset(), true);
            if (d.isRejected()) {
                rejects.record(d.reason(), d.detail(), where(r));
            }
            return;
        }
        OffsetTracker.Pending ack = tracker.add(tp, r.offset(), false);
        offered.increment();
        if (!ingest.offer(m, ack) && !blocked) {
            blocked = true;
            ingest.whenWritable(() -> blocked = false);
        }
    }

    private static Object where(ConsumerRecord<?, ?> r) {
        return new Object() {
            @Override
            public String toString() {
                return r.topic() + "-" + r.partition() + "@" + r.offset();
            }
        };
    }

    /** Commits what is delivered; a failure is logged and the next commit repeats it. */
    private void commit() {
        OffsetTracker.Commit c = tracker.due();
        if (c.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(c.offsets(), COMMIT_TIMEOUT);
            tracker.succeeded(c);
            commits.increment();
            LOG.debug("kafka transport {}: committed {}", name, c.offsets());
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            commitFailures.increment();
            long suppressed = errorLog.acquire();
            if (suppressed >= 0) {
                LOG.warn("kafka transport {}: commit failed, repeated with the next one ({} more errors suppressed): {}", name,
                        suppressed, e.toString());
            }
        }
    }

    private void close() {
        long deadline = System.nanoTime() + settings.closeTimeout().toNanos();
        while (!tracker.allDone() && System.nanoTime() < deadline) {
            sleep(20);
        }
        try {
            commit();
        } catch (WakeupException e) {
            commit(); // the stop's wakeup arrived after the loop had ended: once more
        }
        long left = tracker.uncommitted();
        try {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(COMMIT_TIMEOUT));
        } catch (KafkaException e) {
            LOG.warn("kafka transport {}: closing the consumer failed", name, e);
        }
        LOG.info("kafka transport {} stopped: {} records read, {} not committed (read again by the group)", name,
                records.sum(), left);
    }

    private static void sleep(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Commits what was delivered from partitions being taken away, before they go. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                try {
                    commit();
                } finally {
                    tracker.revoked(partitions);
                    assigned = Math.max(0, assigned - partitions.size());
                }
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            tracker.revoked(partitions);
            assigned = Math.max(0, assigned - partitions.size());
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            rebalances.increment();
            assigned = consumer.assignment().size();
            if (paused) {
                consumer.pause(partitions);
            }
            LOG.info("kafka transport {}: assigned {} (now {} partitions)", name, new HashSet<>(partitions), assigned);
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        sink.counter("signalbox_kafka_consumer_records_total", records.sum(), "transport", name);
        sink.counter("signalbox_kafka_consumer_offered_total", offered.sum(), "transport", name);
        sink.gauge("signalbox_kafka_consumer_uncommitted", tracker.uncommitted(), "transport", name);
        sink.counter("signalbox_kafka_consumer_commits_total", commits.sum(), "transport", name);
        sink.counter("signalbox_kafka_consumer_commit_failures_total", commitFailures.sum(), "transport", name);
        sink.counter("signalbox_kafka_consumer_rebalances_total", rebalances.sum(), "transport", name);
        sink.counter("signalbox_kafka_consumer_pauses_total", pauses.sum(), "transport", name);
        sink.gauge("signalbox_kafka_consumer_paused", paused ? 1 : 0, "transport", name);
        sink.gauge("signalbox_kafka_consumer_partitions", assigned, "transport", name);
        rejects.collect(sink);
    }
}
