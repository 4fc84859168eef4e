package io.signalbox.correlation.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;

/**
 * The pending messages of one source and the hand-off that keeps its batches in order.
 *
 * <p>Everything is guarded by this object's monitor, held only for an append or to cut a
 * batch, never while the router runs. Batches are cut under the monitor, so cutting order
 * is message order. The first thread that cuts a batch while nobody is routing this source
 * becomes its <em>router thread</em>: it hands its batch to the router outside the monitor
 * and then keeps taking batches that other threads cut meanwhile (they park them in
 * {@link #outbox} and return at once) until none is left. So two threads flushing the same
 * source never reorder its batches, and no producer ever waits for the router.
 */
final class SourceBuffer {
    /** Returned by {@link #append} when this buffer was retired: look the source up again. */
    static final Batch RETIRED = new Batch("", List.of());

    final String source;
    private final FlushCounters counters;
    /**
     * True once the owner is stopping: every append then cuts a batch at once. Read under the
     * monitor, so an append racing with the shutdown flush either is flushed by it or flushes itself.
     */
    private final BooleanSupplier stopping;
    private final ArrayList<Message> pending = new ArrayList<>();
    private ArrayDeque<Batch> outbox;
    /** Delivered callbacks of pending messages offered with one ({@code Ingest.offer(Message, Runnable)}); lazily made. */
    private ArrayList<Runnable> pendingAcks;
    /** Callbacks of batches cut and not yet taken by their router thread ({@link #takeAcks}). */
    private IdentityHashMap<Batch, Runnable[]> cutAcks;
    /** Whether any message of this source ever came with a callback: spares the TCP path the monitor in {@link #takeAcks}. */
    private volatile boolean anyAcks;
    /** When the oldest pending message arrived (nanos); meaningful while {@code pending} is not empty. */
    private long oldestNanos;
    /**
     * Approximately the last time a message arrived: the arrival of the first message of the
     * last batch, or the creation time. Off by at most one flush interval, which does not matter
     * for a ten-minute idle limit and saves a clock read per message.
     */
    private long lastActiveNanos;
    /** Messages accepted for this source since start, shared with its earlier and later buffers (for /metrics). */
    private final AtomicLong received;
    private boolean routing;
    private boolean retired;

    SourceBuffer(String source, long nowNanos, FlushCounters counters, BooleanSupplier stopping, AtomicLong received) {
        this.source = source;
        this.received = received;
        this.counters = counters;
        this.stopping = stopping;
        this.lastActiveNanos = nowNanos;
    }

    /**
     * Appends a message and cuts a batch if it is critical, fills the batch or the owner is stopping.
     *
     * @return {@link #RETIRED} if this buffer is no longer in use; a batch the calling thread must
     *         hand to the router and then {@link #next()} until {@code null}; or {@code null}
     */
    Batch append(Message message, int batchSize, LongSupplier nanoClock) {
        return append(message, null, batchSize, nanoClock, false);
    }

    /**
     * {@link #append(Message, int, LongSupplier)} of a message whose {@code delivered} callback
     * (may be {@code null}) goes with the batch it is cut into: {@link #takeAcks}.
     */
    Batch append(Message message, Runnable delivered, int batchSize, LongSupplier nanoClock) {
        return append(message, delivered, batchSize, nanoClock, false);
    }

    /**
     * {@link #append(Message, Runnable, int, LongSupplier)}; {@code flushNow}: cut a batch at once, as
     * for a critical message ({@code Ingest.offerAndFlush})
     */
    synchronized Batch append(Message message, Runnable delivered, int batchSize, LongSupplier nanoClock, boolean flushNow) {
        if (retired) {
            return RETIRED;
        }
        if (pending.isEmpty()) {
            oldestNanos = nanoClock.getAsLong();
        }
        pending.add(message);
        if (delivered != null) {
            if (pendingAcks == null) {
                pendingAcks = new ArrayList<>();
                anyAcks = true;
            }
            pendingAcks.add(delivered);
        }
        received.incrementAndGet();
        if (flushNow || message.isCritical()) {
            return cut(FlushReason.CRITICAL);
        }
        if (pending.size() >= batchSize) {
            return cut(FlushReason.SIZE);
        }
        if (stopping.getAsBoolean()) {
            return cut(FlushReason.SHUTDOWN);
        }
        return null;
    }

    /** Cuts a batch if the oldest pending message has waited at least {@code maxAgeNanos}; same contract as {@link #append}. */
    synchronized Batch flushIfOlder(long nowNanos, long maxAgeNanos) {
        if (pending.isEmpty() || nowNanos - oldestNanos < maxAgeNanos) {
            return null;
        }
        return cut(FlushReason.AGE);
    }

    /** Cuts a batch of whatever is pending; same contract as {@link #append}. */
    synchronized Batch flush(FlushReason reason) {
        return pending.isEmpty() ? null : cut(reason);
    }

    /**
     * The next batch another thread parked for the router thread, or {@code null}, in which case
     * the caller is no longer the router thread.
     */
    synchronized Batch next() {
        Batch b = outbox == null ? null : outbox.pollFirst();
        if (b == null) {
            routing = false;
        }
        return b;
    }

    /**
     * Retires this buffer if it holds nothing, nobody is routing it and no message arrived for
     * {@code idleNanos}. A retired buffer refuses appends, so no message can be stranded in it.
     */
    synchronized boolean retireIfIdle(long nowNanos, long idleNanos) {
        if (retired || !pending.isEmpty() || routing || nowNanos - lastActiveNanos < idleNanos) {
            return false;
        }
        retired = true;
        return true;
    }

    /** Messages accepted for this source since start, by this buffer and the source's earlier ones. */
    long accepted() {
        return received.get();
    }

    /** Messages waiting in this buffer. */
    synchronized int pending() {
        return pending.size();
    }

    /**
     * The delivered callbacks of the messages of {@code batch} (a batch this buffer cut), once;
     * {@code null} if none of them came with one.
     */
    Runnable[] takeAcks(Batch batch) {
        if (!anyAcks) {
            return null;
        }
        synchronized (this) {
            return cutAcks == null ? null : cutAcks.remove(batch);
        }
    }

    private Batch cut(FlushReason reason) {
        Batch batch = new Batch(source, pending, oldestNanos);
        pending.clear();
        if (pendingAcks != null && !pendingAcks.isEmpty()) {
            if (cutAcks == null) {
                cutAcks = new IdentityHashMap<>();
            }
            cutAcks.put(batch, pendingAcks.toArray(new Runnable[0]));
            pendingAcks.clear();
        }
        lastActiveNanos = oldestNanos;
        counters.increment(reason);
        if (routing) {
            if (outbox == null) {
                outbox = new ArrayDeque<>(4);
            }
            outbox.addLast(batch);
            return null;
        }
        routing = true;
        return batch;
    }
}
