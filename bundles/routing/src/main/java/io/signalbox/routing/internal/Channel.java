package io.signalbox.routing.internal;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;

/**
 * The delivery channel of one backend name: an in-memory FIFO of batch parts and one worker
 * thread that writes them, in order, to the backend currently bound under that name.
 *
 * <p>While no backend of that name is bound the batches wait in the queue (and the channel
 * reports itself as waiting); they are written in order when one arrives. A failed write is
 * retried forever with exponential back-off; the next batch is not written before the
 * previous one succeeded, so order is kept. The queue is not bounded here: the producer
 * (correlation) bounds what is in flight through the {@code delivered} callbacks.
 *
 * <p>One lock per channel, taken once per batch by the producer and twice per write by the
 * worker; never per message.
 */
final class Channel {
    private static final Logger LOG = LoggerFactory.getLogger(Channel.class);

    /** Retry timing, read at every failure so a configuration change applies at once. */
    interface RetryPolicy {
        long initialMillis();

        long maxMillis();
    }

    private record Entry(Batch batch, Completion completion) {
    }

    private final String name;
    private final RetryPolicy retry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private final LongAdder routed = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final LogLimiter failureLog = new LogLimiter();
    private final Thread worker;

    // guarded by lock
    private Backend backend;
    private Backend writingWith;
    private boolean draining;
    private boolean stopped;
    // written under lock, read without for the gauges
    private volatile long queuedMessages;
    private volatile int queuedBatches;
    private volatile boolean hasBackend;

    Channel(String name, RetryPolicy retry) {
        this.name = name;
        this.retry = retry;
        this.worker = new Thread(this::work, "signalbox-channel-" + name);
        this.worker.setDaemon(true);
    }

    void start() {
        worker.start();
    }

    String name() {
        return name;
    }

    /**
     * Queues one batch part; {@code completion.partDone()} runs once the backend wrote it.
     *
     * @return {@code false} if the channel is stopped and did not take the batch
     */
    boolean enqueue(Batch batch, Completion completion) {
        int n = batch.size();
        lock.lock();
        try {
            if (stopped || draining) {
                return false;
            }
            queue.addLast(new Entry(batch, completion));
            queuedMessages += n;
            queuedBatches++;
            changed.signal();
        } finally {
            lock.unlock();
        }
        routed.add(n);
        return true;
    }

    /** Binds a backend (replacing any other); waiting batches start flowing to it. */
    void attach(Backend b) {
        lock.lock();
        try {
            backend = b;
            hasBackend = b != null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Unbinds {@code gone} if it is the bound backend, putting {@code replacement} (may be
     * {@code null}) in its place; does not wait. See {@link #awaitNotWritingWith}.
     */
    void detach(Backend gone, Backend replacement) {
        lock.lock();
        try {
            if (backend == gone) {
                backend = replacement;
                hasBackend = replacement != null;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no write to {@code b} is in progress, up to {@code timeoutMillis}.
     *
     * @return {@code true} if none is in progress any more
     */
    boolean awaitNotWritingWith(Backend b, long timeoutMillis) {
        if (Thread.currentThread() == worker) {
            return true; // the backend unregistered itself from inside write(): nothing to wait for
        }
        long remaining = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (writingWith == b && writingWith != null) {
                if (remaining <= 0) {
                    return false;
                }
                remaining = changed.awaitNanos(remaining);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return writingWith != b;
        } finally {
            lock.unlock();
        }
    }

    /** Stops taking batches; the worker ends once the queue is written or no backend is bound. */
    void beginDrain() {
        lock.lock();
        try {
            draining = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the worker to end, until {@code deadlineNanos} ({@link System#nanoTime()} based). */
    boolean awaitDrained(long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        try {
            if (remaining > 0) {
                TimeUnit.NANOSECONDS.timedJoin(worker, remaining);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !worker.isAlive();
    }

    /** Ends the worker now, interrupting a write in progress; what is queued stays undelivered. */
    void stop() {
        lock.lock();
        try {
            stopped = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        worker.interrupt();
    }

    long queuedMessages() {
        return queuedMessages;
    }

    int queuedBatches() {
        return queuedBatches;
    }

    boolean waitingForBackend() {
        return !hasBackend;
    }

    long routedMessages() {
        return routed.sum();
    }

    long writeFailures() {
        return failures.sum();
    }

    long batchesWritten() {
        return written.sum();
    }

    // --- worker --------------------------------------------------------------------------

    private void work() {
        int attempt = 0;
        try {
            while (true) {
                Entry entry;
                Backend b;
                lock.lock();
                try {
                    while (!stopped && (queue.isEmpty() || backend == null)) {
                        if (draining) {
                            return; // nothing more this channel can deliver
                        }
                        changed.await();
                    }
                    if (stopped) {
                        return;
                    }
                    entry = queue.peekFirst();
                    b = backend;
                    writingWith = b;
                } finally {
                    lock.unlock();
                }

                Throwable failure = write(b, entry.batch());

                if (failure == null) {
                    attempt = 0;
                    lock.lock();
                    try {
                        writingWith = null;
                        queue.pollFirst();
                        queuedMessages -= entry.batch().size();
                        queuedBatches--;
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                    written.increment();
                    entry.completion().partDone();
                } else {
                    failures.increment();
                    long delay = backoffMillis(attempt++);
                    long suppressed = failureLog.permit(1);
                    if (suppressed >= 0) {
                        LOG.warn("backend {}: writing a batch of {} messages failed (attempt {}), retrying in {} ms "
                                + "({} more failures not logged in the last {} s): {}", name, entry.batch().size(),
                                attempt, delay, suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS, failure.toString(),
                                failure);
                    }
                    backOff(b, delay);
                }
            }
        } catch (InterruptedException e) {
            LOG.debug("channel {} interrupted", name);
        } finally {
            lock.lock();
            try {
                writingWith = null;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Writes one batch; returns the failure, or {@code null} on success. */
    private static Throwable write(Backend b, Batch batch) {
        try {
            b.write(batch);
            return null;
        } catch (Exception | LinkageError e) {
            // LinkageError: the backend's bundle was updated or uninstalled under us; retried with the next one
            return e;
        }
    }

    /** Waits {@code delayMillis}, ending early when stopped or when another backend was bound. */
    private void backOff(Backend failed, long delayMillis) throws InterruptedException {
        long remaining = TimeUnit.MILLISECONDS.toNanos(delayMillis);
        lock.lock();
        try {
            writingWith = null;
            changed.signalAll();
            while (remaining > 0 && !stopped && (backend == failed || backend == null)) {
                remaining = changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    long backoffMillis(int attempt) {
        long initial = Math.max(1, retry.initialMillis());
        long max = Math.max(initial, retry.maxMillis());
        long d = initial;
        for (int i = 0; i < attempt && d < max; i++) {
            d *= 2;
        }
        return Math.min(d, max);
    }
}
