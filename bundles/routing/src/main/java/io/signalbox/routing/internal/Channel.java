package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.LogLimiter;

/**
 * The delivery channel of one backend name: an in-memory FIFO of batch parts, a disk
 * {@link Spool}, and one worker thread that writes them, in order, to the backend currently
 * bound under that name.
 *
 * <p>Fast path: while a backend is bound and the spool is empty, batches go from the queue to
 * the backend and never touch the disk. While no backend of that name is bound (not deployed
 * yet, removed, being replaced), the worker moves the queued batches to the spool and runs
 * their callbacks once they are in it, so an absent backend does not hold correlation's
 * in-flight capacity. When a backend arrives the spool is replayed in order before anything
 * queued after it. A failed write is retried forever with exponential back-off; the next batch
 * is not written before the previous one succeeded, so order is kept. The queue is not bounded
 * here: the producer (correlation) bounds what is in flight through the {@code delivered}
 * callbacks. If the spool cannot be written (disk full), batches wait in memory as before.
 *
 * <p>One lock per channel, taken once per batch by the producer and twice per write by the
 * worker; never per message. The spool is used by the worker thread only.
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

    /** Most batches moved to the spool per turn of the worker (the lock is not held meanwhile). */
    private static final int SPOOL_CHUNK = 256;
    private static final long SPOOL_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String name;
    private final RetryPolicy retry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private final LongAdder routed = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final LogLimiter failureLog = new LogLimiter();
    private final LogLimiter spoolLog = new LogLimiter();
    private final Path spoolDir;
    private final Spool.Limits spoolLimits;
    private final Thread worker;
    /** Worker thread only (gauges read it through a volatile). */
    private volatile Spool spool;
    /** Worker thread only: no spool append before this time after one failed. */
    private long spoolRetryAt;
    private boolean spoolFailed;

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
        this(name, retry, null, null);
    }

    /**
     * @param spoolDir    the directory of this backend's spool, or {@code null} for none
     *                    (batches for an absent backend then wait in memory)
     * @param spoolLimits its bounds
     */
    Channel(String name, RetryPolicy retry, Path spoolDir, Spool.Limits spoolLimits) {
        this.name = name;
        this.retry = retry;
        this.spoolDir = spoolDir;
        this.spoolLimits = spoolLimits;
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

    /**
     * Stops taking batches; the worker ends once the spool and the queue are written, or, with
     * no backend bound, once the queue is in the spool.
     */
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

    long spoolBytes() {
        Spool sp = spool;
        return sp == null ? 0 : sp.bytes();
    }

    long spoolMessages() {
        Spool sp = spool;
        return sp == null ? 0 : sp.messages();
    }

    long spoolDroppedMessages() {
        Spool sp = spool;
        return sp == null ? 0 : sp.droppedMessages();
    }

    long spoolCorruptRecords() {
        Spool sp = spool;
        return sp == null ? 0 : sp.corruptRecords();
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
        openSpool();
        int attempt = 0;
        try {
            while (true) {
                Entry entry = null;
                Entry[] toSpool = null;
                boolean replay = false;
                Backend b;
                lock.lock();
                try {
                    while (true) {
                        if (stopped) {
                            return;
                        }
                        if (backend != null) {
                            if (spool != null && !spool.isEmpty()) {
                                replay = true;
                                break;
                            }
                            if (!queue.isEmpty()) {
                                break;
                            }
                        } else if (!queue.isEmpty() && spool != null) {
                            long wait = spoolFailed ? spoolRetryAt - System.nanoTime() : 0;
                            if (wait <= 0) {
                                toSpool = headOfQueue();
                                break;
                            }
                            changed.awaitNanos(wait);
                            continue;
                        }
                        if (draining) {
                            return; // nothing more this channel can deliver
                        }
                        changed.await();
                    }
                    b = backend;
                    if (toSpool == null) {
                        entry = replay ? null : queue.peekFirst();
                        writingWith = b;
                    }
                } finally {
                    lock.unlock();
                }

                if (toSpool != null) {
                    moveToSpool(toSpool);
                    continue;
                }
                Spool.Record record = null;
                Batch batch;
                if (replay) {
                    record = peekSpool();
                    if (record == null) {
                        notWriting();
                        continue;
                    }
                    batch = record.batch();
                } else {
                    batch = entry.batch();
                }

                Throwable failure = write(b, batch);

                if (failure == null) {
                    attempt = 0;
                    if (replay) {
                        notWriting();
                        advanceSpool(record);
                        written.increment();
                        continue;
                    }
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
                        LOG.warn("backend {}: writing a batch of {} messages{} failed (attempt {}), retrying in {} ms "
                                + "({} more failures not logged in the last {} s): {}", name, batch.size(),
                                replay ? " from the spool" : "", attempt, delay, suppressed,
                                LogLimiter.DEFAULT_INTERVAL_SECONDS, failure.toString(), failure);
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
            closeSpool();
        }
    }

    /** Called with the lock held: the first queued entries, which only this worker removes. */
    private Entry[] headOfQueue() {
        int n = Math.min(queue.size(), SPOOL_CHUNK);
        Entry[] out = new Entry[n];
        Iterator<Entry> it = queue.iterator();
        for (int i = 0; i < n; i++) {
            out[i] = it.next();
        }
        return out;
    }

    /**
     * Appends queued entries to the spool in order, then removes them from the queue and runs
     * their callbacks. On a failure the rest stay queued (in memory) and the spool is tried
     * again a second later.
     */
    private void moveToSpool(Entry[] entries) {
        int done = 0;
        IOException failure = null;
        for (Entry e : entries) {
            try {
                spool.append(e.batch());
                done++;
            } catch (IOException ex) {
                failure = ex;
                break;
            }
        }
        long messages = 0;
        for (int i = 0; i < done; i++) {
            messages += entries[i].batch().size();
        }
        lock.lock();
        try {
            for (int i = 0; i < done; i++) {
                queue.pollFirst();
            }
            queuedMessages -= messages;
            queuedBatches -= done;
            spoolFailed = failure != null;
            spoolRetryAt = System.nanoTime() + SPOOL_RETRY_NANOS;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < done; i++) {
            entries[i].completion().partDone();
        }
        if (failure != null) {
            long suppressed = spoolLog.permit(1);
            if (suppressed >= 0) {
                LOG.error("backend {} is absent and its spool {} cannot be written ({} more failures not logged in "
                        + "the last {} s); {} messages wait in memory: {}", name, spoolDir, suppressed,
                        LogLimiter.DEFAULT_INTERVAL_SECONDS, queuedMessages, failure.toString(), failure);
            }
        }
    }

    private Spool.Record peekSpool() {
        try {
            return spool.peek();
        } catch (IOException e) {
            LOG.error("backend {}: the spool {} cannot be read; its contents are kept on disk and not replayed "
                    + "until the next start: {}", name, spoolDir, e.toString(), e);
            closeSpool();
            spool = null;
            return null;
        }
    }

    private void advanceSpool(Spool.Record record) {
        try {
            spool.advance(record);
        } catch (IOException e) {
            LOG.error("backend {}: a replayed spool record could not be marked delivered in {}; it may be replayed "
                    + "again after a restart: {}", name, spoolDir, e.toString(), e);
        }
    }

    private void notWriting() {
        lock.lock();
        try {
            writingWith = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void openSpool() {
        if (spoolDir == null) {
            return;
        }
        try {
            spool = Spool.open(name, spoolDir, spoolLimits);
        } catch (IOException | RuntimeException e) {
            LOG.error("backend {}: the spool {} cannot be opened; batches for this backend wait in memory while it "
                    + "is absent: {}", name, spoolDir, e.toString(), e);
        }
    }

    private void closeSpool() {
        Spool sp = spool;
        if (sp == null) {
            return;
        }
        try {
            sp.close();
        } catch (IOException e) {
            LOG.warn("backend {}: closing the spool {} failed: {}", name, spoolDir, e.toString(), e);
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
