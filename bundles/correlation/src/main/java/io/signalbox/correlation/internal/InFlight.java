package io.signalbox.correlation.internal;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.signalbox.api.Batch;
import io.signalbox.api.Ingest;
import io.signalbox.api.Message;
import io.signalbox.api.RateLimitedLog;

/**
 * Back-pressure accounting: the messages accepted and not yet delivered by routing (the value
 * of this counter: one increment per message on the hot path), their weight in bytes
 * ({@link #weight}: the line plus a fixed estimate of the objects that carry it, so that the
 * budget bounds the heap whatever the line length), and the {@link Ingest#whenWritable}
 * callbacks of paused transports, run once both are back at their resume levels.
 *
 * <p>Between the resume level and the capacity the pipeline is writable, but a paused transport
 * is not resumed yet: that gap keeps a busy pipeline from pausing and resuming on every batch.
 */
final class InFlight extends AtomicLong {
    private static final long serialVersionUID = 1L;

    /**
     * Heap a message costs besides its line: the {@code Message} (56 B), the line array's header
     * and padding, its slots in a buffer and a batch. {@code -prof gc} on the connection path
     * under C1 measures ~70-90 B besides the line for an event or a metric without ids; ids and
     * span details add the amounts below. Weighing more than a message costs would only make
     * batches smaller where the budget binds (many sources), not the heap safer: the heap bound is
     * sized from the budget's bytes (load/README.md, "Session 12").
     */
    static final int MESSAGE_OVERHEAD_BYTES = 96;
    /** A trace id's {@code String} and its bytes. */
    static final int TRACE_ID_BYTES = 72;
    /** A span's {@code SpanInfo}, its name and its span and parent ids. */
    static final int SPAN_BYTES = 160;

    private final transient ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private final transient RateLimitedLog problems;
    private final AtomicLong bytes = new AtomicLong();
    private volatile long resumeThreshold;
    private volatile long resumeBytes;

    InFlight(long resumeThreshold, long resumeBytes, RateLimitedLog problems) {
        this.resumeThreshold = resumeThreshold;
        this.resumeBytes = resumeBytes;
        this.problems = problems;
    }

    /** What {@code message} counts against the byte budget while it is in flight. */
    static long weight(Message message) {
        long w = (long) message.line().length + MESSAGE_OVERHEAD_BYTES;
        if (message.traceId() != null) {
            w += TRACE_ID_BYTES;
        }
        if (message.span() != null) {
            w += SPAN_BYTES;
        }
        return w;
    }

    /** The weight of a batch: the sum of its messages' (the same as was added for them). */
    static long weight(Batch batch) {
        long sum = 0;
        List<Message> messages = batch.messages();
        for (int i = 0, n = messages.size(); i < n; i++) { // indexed: no iterator per batch under C1
            sum += weight(messages.get(i));
        }
        return sum;
    }

    /** Adds one message of {@code weight} bytes; returns the bytes in flight now. */
    long add(long weight) {
        incrementAndGet();
        return bytes.addAndGet(weight);
    }

    /** The bytes in flight ({@link #weight} of every message accepted and not yet delivered). */
    long bytes() {
        return bytes.get();
    }

    /** New resume levels; the waiting callbacks run now if in-flight is already at or below them. */
    void resumeAt(long threshold, long thresholdBytes) {
        resumeThreshold = threshold;
        resumeBytes = thresholdBytes;
        if (belowResume()) {
            runWaiting();
        }
    }

    private boolean belowResume() {
        return get() <= resumeThreshold && bytes.get() <= resumeBytes;
    }

    /**
     * Runs {@code callback} on the calling thread if in-flight is at or below the resume level;
     * otherwise on the thread whose delivery brings it there (a routing thread), or on the
     * thread that calls {@link #runWaiting} (the tick, the shutdown).
     */
    void whenWritable(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        if (belowResume()) {
            run(callback);
            return;
        }
        waiting.add(callback);
        // a delivery may have crossed the threshold between the check and the add
        if (belowResume()) {
            runWaiting();
        }
    }

    /** Whether a transport waits for room. */
    boolean anyWaiting() {
        return !waiting.isEmpty();
    }

    /** Runs every waiting callback (each once). */
    void runWaiting() {
        Runnable callback;
        while ((callback = waiting.poll()) != null) {
            run(callback);
        }
    }

    /**
     * The {@code delivered} callback of a batch of {@code size} messages weighing {@code weight}
     * bytes: releases them once.
     */
    Runnable delivery(int size, long weight) {
        return new Delivery(size, weight);
    }

    /**
     * The {@code delivered} callback of a batch whose messages came with callbacks of their own
     * ({@code Ingest.offer(Message, Runnable)}): releases the batch, then runs each of them once.
     */
    Runnable delivery(int size, long weight, Runnable[] acks) {
        Delivery d = new Delivery(size, weight);
        return () -> {
            if (d.compareAndSet(false, true)) {
                release(d.size, d.weight);
                for (Runnable a : acks) {
                    try {
                        a.run();
                    } catch (RuntimeException e) {
                        problems.error("delivered-callback", "A message's delivered callback failed", e);
                    }
                }
            } else {
                problems.warn("delivered-twice", "A batch's delivered callback ran more than once; ignored");
            }
        };
    }

    private void release(int count, long weight) {
        bytes.addAndGet(-weight);
        addAndGet(-count);
        // both read again after both changes: of two concurrent releases, the one that checks last
        // sees the other's changes too, so a crossing of both levels is never missed
        if (!waiting.isEmpty() && belowResume()) {
            runWaiting();
        }
    }

    private void run(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            problems.error("writable-callback", "A whenWritable callback failed", e);
        }
    }

    /** The {@code delivered} callback of one batch. */
    private final class Delivery extends AtomicBoolean implements Runnable {
        private static final long serialVersionUID = 1L;
        private final int size;
        private final long weight;

        Delivery(int size, long weight) {
            this.size = size;
            this.weight = weight;
        }

        @Override
        public void run() {
            if (compareAndSet(false, true)) {
                release(size, weight);
            } else {
                problems.warn("delivered-twice", "A batch's delivered callback ran more than once; ignored");
            }
        }
    }
}
