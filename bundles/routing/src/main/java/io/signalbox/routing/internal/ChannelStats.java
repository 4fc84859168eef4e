package io.signalbox.routing.internal;

import java.util.concurrent.atomic.LongAdder;

import io.signalbox.api.BackendStatus;
import io.signalbox.api.LatencyHistogram;
import io.signalbox.api.MetricsSink;

/**
 * What one channel counts and measures, and how it is reported: every series carries the label
 * {@code backend}. The counters are cheap to add to from the channel's threads and the producers
 * (one {@link LongAdder} each); the gauges are read from the channel's parts when collected.
 */
final class ChannelStats {
    private static final String BACKEND = "backend";

    private final String name;
    private final ChannelState state;
    private final ChannelSpool spool;
    private final LongAdder routed = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder written = new LongAdder();
    /** Messages the backend wrote (not those spooled or dead-lettered): what "delivered" means. */
    private final LongAdder writtenMessages = new LongAdder();
    private final LongAdder spooled = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();
    /** Duration of successful writes. */
    private final LatencyHistogram writeLatency = new LatencyHistogram();
    /** From the receipt of a batch's oldest message to the backend's acknowledgement (direct writes and replays). */
    private final LatencyHistogram pipelineLatency = new LatencyHistogram();

    /** @param state the queue and the breaker, for their gauges */
    ChannelStats(String name, ChannelState state, ChannelSpool spool) {
        this.name = name;
        this.state = state;
        this.spool = spool;
    }

    void routed(int messages) {
        routed.add(messages);
    }

    /**
     * A batch of {@code messages} was written in {@code tookNanos}; {@code receivedNanos} is its oldest
     * message's receipt, or 0.
     */
    void written(int messages, long tookNanos, long receivedNanos) {
        written.increment();
        writtenMessages.add(messages);
        writeLatency.record(tookNanos);
        if (receivedNanos != 0) {
            pipelineLatency.record(System.nanoTime() - receivedNanos);
        }
    }

    void writeFailed() {
        failures.increment();
    }

    void spooled(long messages) {
        spooled.add(messages);
    }

    void replayed(int messages) {
        replayed.add(messages);
    }

    /** A batch the backend refused as invalid went to the dead-letter file (or was dropped without one). */
    void deadLettered(int messages) {
        deadLettered.add(messages);
    }

    /** Messages appended to the spool since start. */
    long spooledMessages() {
        return spooled.sum();
    }

    /** The channel's series; {@code waiting}: a route wants this backend and none is bound. */
    void collect(MetricsSink sink, boolean waiting, BackendStatus.State health) {
        CircuitBreaker breaker = state.breaker();
        sink.counter("signalbox_messages_routed_total", routed.sum(), BACKEND, name);
        sink.gauge("signalbox_channel_queued_messages", state.queuedMessages(), BACKEND, name);
        sink.gauge("signalbox_channel_in_flight_batches", state.inFlight(), BACKEND, name);
        sink.counter("signalbox_backend_write_failures_total", failures.sum(), BACKEND, name);
        sink.counter("signalbox_backend_batches_written_total", written.sum(), BACKEND, name);
        sink.counter("signalbox_backend_messages_written_total", writtenMessages.sum(), BACKEND, name);
        sink.gauge("signalbox_channel_waiting_for_backend", waiting ? 1 : 0, BACKEND, name);
        sink.gauge("signalbox_spool_bytes", spool.bytes(), BACKEND, name);
        sink.gauge("signalbox_spool_messages", spool.messages(), BACKEND, name);
        sink.counter("signalbox_spool_dropped_messages_total", spool.droppedMessages(), BACKEND, name);
        sink.counter("signalbox_spool_corrupt_records_total", spool.corruptRecords(), BACKEND, name);
        sink.gauge("signalbox_spool_ignored_files", spool.ignoredFiles(), BACKEND, name);
        sink.counter("signalbox_spool_appended_messages_total", spooled.sum(), BACKEND, name);
        sink.counter("signalbox_spool_replayed_messages_total", replayed.sum(), BACKEND, name);
        sink.gauge("signalbox_backend_breaker_state", breaker.state().ordinal(), BACKEND, name);
        sink.counter("signalbox_backend_breaker_opened_total", breaker.openedCount(), BACKEND, name);
        sink.counter("signalbox_deadletter_messages_total", deadLettered.sum(), BACKEND, name);
        writeLatency.collect(sink, "signalbox_backend_latency_seconds", BACKEND, name);
        pipelineLatency.collect(sink, "signalbox_pipeline_latency_seconds", BACKEND, name);
        sink.gauge("signalbox_backend_state", health.ordinal(), BACKEND, name);
    }

    /** The channel's line in {@code /health}; {@code kind} is {@code null} while no backend is bound. */
    BackendStatus status(String kind, BackendStatus.State health) {
        return new BackendStatus(name, kind, health, state.queuedMessages(), spool.messages(), spool.bytes(), routed.sum(), writtenMessages.sum(),
                failures.sum(), deadLettered.sum(), spool.droppedMessages());
    }
}
