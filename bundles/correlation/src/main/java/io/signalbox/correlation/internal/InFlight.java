package io.signalbox.correlation.internal;

import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.signalbox.api.Ingest;
import io.signalbox.api.RateLimitedLog;

/**
 * Back-pressure accounting: the messages accepted and not yet delivered by routing (the value
 * of this counter: one increment per message on the hot path), and the {@link Ingest#whenWritable}
 * callbacks of paused transports, run once in-flight is back at the resume level.
 *
 * <p>Between the resume level and the capacity the pipeline is writable, but a paused transport
 * is not resumed yet: that gap keeps a busy pipeline from pausing and resuming on every batch.
 */
final class InFlight extends AtomicLong {
    private static final long serialVersionUID = 1L;

    private final transient ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private final transient RateLimitedLog problems;
    private volatile long resumeThreshold;

    InFlight(long resumeThreshold, RateLimitedLog problems) {
        this.resumeThreshold = resumeThreshold;
        this.problems = problems;
    }

    /** A new resume level; the waiting callbacks run now if in-flight is already at or below it. */
    void resumeAt(long threshold) {
        resumeThreshold = threshold;
        if (get() <= threshold) {
            runWaiting();
        }
    }

    /**
     * Runs {@code callback} on the calling thread if in-flight is at or below the resume level;
     * otherwise on the thread whose delivery brings it there (a routing thread), or on the
     * thread that calls {@link #runWaiting} (the tick, the shutdown).
     */
    void whenWritable(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        if (get() <= resumeThreshold) {
            run(callback);
            return;
        }
        waiting.add(callback);
        // a delivery may have crossed the threshold between the check and the add
        if (get() <= resumeThreshold) {
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

    /** The {@code delivered} callback of a batch of {@code size} messages: releases them once. */
    Runnable delivery(int size) {
        return new Delivery(size);
    }

    /**
     * The {@code delivered} callback of a batch whose messages came with callbacks of their own
     * ({@code Ingest.offer(Message, Runnable)}): releases the batch, then runs each of them once.
     */
    Runnable delivery(int size, Runnable[] acks) {
        Delivery d = new Delivery(size);
        return () -> {
            if (d.compareAndSet(false, true)) {
                release(d.size);
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

    private void release(int count) {
        long left = addAndGet(-count);
        if (left <= resumeThreshold && !waiting.isEmpty()) {
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

        Delivery(int size) {
            this.size = size;
        }

        @Override
        public void run() {
            if (compareAndSet(false, true)) {
                release(size);
            } else {
                problems.warn("delivered-twice", "A batch's delivered callback ran more than once; ignored");
            }
        }
    }
}
