package io.signalbox.routing.internal;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;

/**
 * What the producers and the two threads of one {@link Channel} share, under its one lock: the
 * {@link ChannelQueue}, the {@link CircuitBreaker}, the bound backend and the flags of the
 * shutdown; and every decision taken on them: what the writer writes next ({@link #nextTurn}),
 * what the spooler moves to disk ({@link #nextChunk}). Nothing here does I/O, so the lock is never
 * held while the spool or the backend is used; it is taken once per batch by the producer and a
 * few times per batch by the threads, never per message.
 *
 * <p>Order: the batch the writer has taken from the head of the queue stays reserved until it is
 * written or dead-lettered; the spooler moves only batches behind it. So the order of delivery is
 * always head, then the spool, then the rest of the queue.
 *
 * <p>Batches go to disk while no backend is bound, while the breaker is open, behind a non-empty
 * spool, once more than {@code channel.queue.messages} have been queued for
 * {@code channel.spill.after.ms} (a slow backend), and when draining once the writer gave up.
 */
final class ChannelState {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelState.class);

    /** Most batches moved to the spool per turn of the spooler (the lock is not held meanwhile). */
    private static final int SPOOL_CHUNK = 256;
    private static final long SPOOL_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How often the spooler wakes to fsync the spool when {@code spool.fsync=interval}. */
    private static final long IDLE_WAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final String name;
    private final Supplier<RoutingSettings> settings;
    private final ChannelSpool spool;
    private final ChannelQueue queue = new ChannelQueue();
    private final CircuitBreaker breaker = new CircuitBreaker(System::nanoTime, Backoff.jittered()::jitter);
    private final ReentrantLock lock = new ReentrantLock();
    /** Writer and waiters ({@link #awaitDrained}, {@link #awaitNotWritingWith}). */
    private final Condition changed = lock.newCondition();
    /** Spooler only, signalled when batches may have to go to disk (not on every enqueue). */
    private final Condition spoolWork = lock.newCondition();

    // guarded by lock
    private Backend backend;
    private Backend writingWith;
    private boolean draining;
    private boolean stopped;
    private boolean writerDone;
    private boolean spoolFailed;
    private long spoolRetryAt;
    /** The spooler is appending batches it took from the queue (not yet removed). */
    private boolean spoolerBusy;
    /** Written under lock, read without: replay throttled, set by an outage, cleared when the spool is empty again. */
    private volatile boolean recovering;
    /** Written under lock, read without for the gauges. */
    private volatile boolean hasBackend;

    /** @param settings the settings in force, read whenever a value is needed */
    ChannelState(String name, Supplier<RoutingSettings> settings, ChannelSpool spool) {
        this.name = name;
        this.settings = settings;
        this.spool = spool;
    }

    String name() {
        return name;
    }

    RoutingSettings settings() {
        return settings.get();
    }

    // --- gauges, read without the lock -----------------------------------------------------

    boolean hasBackend() {
        return hasBackend;
    }

    /** Messages queued in memory. */
    long queuedMessages() {
        return queue.messages();
    }

    /** Read {@link CircuitBreaker#state()}, {@link CircuitBreaker#openedCount()} … only. */
    CircuitBreaker breaker() {
        return breaker;
    }

    // --- producers and the engine ----------------------------------------------------------

    /**
     * Queues one batch part.
     *
     * @return {@code false} if the channel is stopping and did not take the batch
     */
    boolean offer(Batch batch, Completion completion) {
        lock.lock();
        try {
            if (stopped || draining) {
                return false;
            }
            queue.add(batch, completion, settings.get().queueMessages());
            changed.signal();
            signalSpooler();
        } finally {
            lock.unlock();
        }
        return true;
    }

    /** Binds a backend (replacing any other) with a closed breaker; waiting batches start flowing to it. */
    void attach(Backend b) {
        lock.lock();
        try {
            bind(b);
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
                bind(replacement);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held. */
    private void bind(Backend b) {
        backend = b;
        hasBackend = b != null;
        if (b != null) {
            breaker.reset();
        } else {
            recovering = true;
        }
        changed.signalAll();
        signalSpooler();
    }

    /** Waits until no write to {@code b} is in progress, up to {@code timeoutMillis}; {@code true} if none is. */
    boolean awaitNotWritingWith(Backend b, long timeoutMillis) {
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
     * Stops taking batches. The writer delivers what is queued while it can (backend bound,
     * breaker closed, spool empty); the spooler moves the rest to the spool.
     */
    void beginDrain() {
        end(false);
    }

    /**
     * Waits until the writer has nothing more to deliver and the queue is empty (written or
     * spooled), until {@code deadlineNanos} ({@link System#nanoTime()} based).
     */
    boolean awaitDrained(long deadlineNanos) {
        lock.lock();
        try {
            while (!(writerDone && (queue.isEmpty() || !spool.available()))) {
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                changed.awaitNanos(remaining);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops both threads: they end at their next turn. */
    void stop() {
        end(true);
    }

    private void end(boolean stop) {
        lock.lock();
        try {
            if (stop) {
                stopped = true;
            } else {
                draining = true;
            }
            changed.signalAll();
            spoolWork.signal();
        } finally {
            lock.unlock();
        }
    }

    /** After {@link #stop}, with both threads ended: empties the queue and returns what it held. */
    List<ChannelQueue.Entry> removeAll() {
        lock.lock();
        try {
            List<ChannelQueue.Entry> left = queue.removeAll();
            changed.signalAll();
            return left;
        } finally {
            lock.unlock();
        }
    }

    // --- the writer's transitions (ChannelWriter) ---------------------------------------------

    /** What the writer does next: write {@code entry}, or replay the spool if it is {@code null}. */
    record Turn(Backend backend, ChannelQueue.Entry entry) {
    }

    /** Waits for something to write; {@code null} when the writer is done. */
    Turn nextTurn() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (stopped) {
                    return null;
                }
                Backend b = backend;
                boolean open = breaker.isOpen();
                boolean spoolHasRecords = spool.hasRecords();
                if (draining) {
                    // deliver what is in memory while the backend is healthy; a spool waits for the next start
                    boolean nothingToDo = queue.head() == null && (queue.isEmpty() || spoolHasRecords);
                    if (b == null || open || nothingToDo) {
                        return null;
                    }
                }
                if (b != null && !open) {
                    if (queue.head() != null) {
                        return turn(b, queue.head());
                    }
                    if (spoolerBusy) {
                        changed.await(); // the front of the queue is on its way to the spool: it comes first
                        continue;
                    }
                    if (spoolHasRecords && !draining) {
                        return turn(b, null);
                    }
                    if (!queue.isEmpty()) {
                        return turn(b, queue.reserveHead());
                    }
                    if (!spoolHasRecords) {
                        recovering = false;
                    }
                }
                if ((b == null || open) && releaseHeadToSpool()) {
                    signalSpooler();
                }
                if (open) {
                    changed.awaitNanos(breaker.nanosUntilProbe());
                } else {
                    changed.await();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held. */
    private Turn turn(Backend b, ChannelQueue.Entry entry) {
        writingWith = b;
        if (breaker.beginWrite()) {
            LOG.debug("backend {}: circuit breaker half-open, probing with one batch", name);
        }
        return new Turn(b, entry);
    }

    /**
     * Called with the lock held, while nothing may be written: if nothing is spooled yet, the
     * reserved head is released, so that it goes to the spool first, in order.
     */
    private boolean releaseHeadToSpool() {
        if (queue.head() != null && spool.available() && !spoolerBusy && !spool.hasRecords()) {
            queue.releaseHead();
            return true;
        }
        return false;
    }

    /** Whether a replay is throttled: after an outage, until the spool is empty again. */
    boolean recovering() {
        return recovering;
    }

    /**
     * The batch of {@code turn} is written (or dead-lettered): it leaves the queue, the breaker
     * counts a success (which closes it after a probe).
     *
     * @return {@code false} if the channel was stopped meanwhile (what it held is spooled by stop)
     */
    boolean written(Turn turn) {
        boolean closed;
        lock.lock();
        try {
            writingWith = null;
            if (stopped) {
                changed.signalAll();
                return false;
            }
            closed = breaker.succeeded();
            if (turn.entry() != null) {
                queue.removeWritten(turn.entry(), settings.get().queueMessages());
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (closed) {
            long rate = settings.get().replayRate();
            LOG.info("backend {}: circuit breaker closed, the probe succeeded; {} spooled messages are replayed first{}",
                    name, spool.messages(), rate > 0 ? " at up to " + rate + " messages/s" : "");
        }
        return true;
    }

    /** A write failed: counted against the breaker; if that opened it, the queue goes to the spool. */
    CircuitBreaker.Trip failed() {
        RoutingSettings s = settings.get();
        lock.lock();
        try {
            writingWith = null;
            CircuitBreaker.Trip trip = breaker.failed(s);
            if (trip != CircuitBreaker.Trip.NONE) {
                recovering = true;
                releaseHeadToSpool();
            }
            changed.signalAll();
            signalSpooler(); // the spooler moves the queue while the breaker is open
            return trip;
        } finally {
            lock.unlock();
        }
    }

    /** Nothing is being written; then waits {@code waitNanos} (if above 0), ending early when stopped or draining. */
    void notWriting(long waitNanos) throws InterruptedException {
        long remaining = waitNanos;
        lock.lock();
        try {
            writingWith = null;
            changed.signalAll();
            while (remaining > 0 && !stopped && !draining) {
                remaining = changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits {@code delayMillis}, ending early when stopped, draining, or when another backend was bound. */
    void backOff(Backend failed, long delayMillis) throws InterruptedException {
        long remaining = TimeUnit.MILLISECONDS.toNanos(delayMillis);
        lock.lock();
        try {
            while (remaining > 0 && !stopped && (backend == failed || backend == null)) {
                remaining = changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The writer ended; its reserved head goes to the spooler, in its place at the front of the queue. */
    void writerDone() {
        lock.lock();
        try {
            writingWith = null;
            writerDone = true;
            queue.releaseHead();
            changed.signalAll();
            spoolWork.signal();
        } finally {
            lock.unlock();
        }
    }

    // --- the spooler's transitions (ChannelSpooler) -------------------------------------------

    /** The next batches to spool (empty: just the periodic fsync), or {@code null} when stopped. */
    List<ChannelQueue.Entry> nextChunk() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (stopped || !spool.available()) {
                    return null;
                }
                long now = System.nanoTime();
                if (queue.movable() && mustSpool() && !(spoolFailed && now - spoolRetryAt < 0)) {
                    spoolerBusy = true;
                    return queue.chunk(SPOOL_CHUNK);
                }
                long wait = Math.min(IDLE_WAKE_NANOS, queue.nanosUntilSpill(settings.get().spillAfterMillis(), now));
                if (spoolFailed) {
                    wait = Math.min(wait, Math.max(1, spoolRetryAt - now));
                }
                if (spoolWork.awaitNanos(wait) <= 0) {
                    return List.of(); // woke for the periodic fsync
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The first {@code done} batches of {@code chunk} are in the spool; if not all are, it is tried again later. */
    void spooled(List<ChannelQueue.Entry> chunk, int done) {
        lock.lock();
        try {
            queue.removeSpooled(chunk, done, settings.get().queueMessages());
            spoolerBusy = false;
            spoolFailed = done < chunk.size();
            spoolRetryAt = System.nanoTime() + SPOOL_RETRY_NANOS;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held: wakes the spooler if queued batches belong on disk now. */
    private void signalSpooler() {
        if (spool.available() && mustSpool()) {
            spoolWork.signal();
        }
    }

    /** Called with the lock held: whether queued batches (behind the head) belong on disk now. */
    private boolean mustSpool() {
        if (backend == null || breaker.state() == CircuitBreaker.State.OPEN) {
            return true;
        }
        if (spool.hasRecords()) {
            // a backlog is on disk and the writer replays it first: newer batches join it at once, so a
            // backend that stays behind costs the others nothing after its first spill
            return true;
        }
        RoutingSettings s = settings.get();
        // a backend slower than the traffic for a while: its backlog goes to disk; draining: once the writer gave up
        return queue.overFor(s.queueMessages(), s.spillAfterMillis()) || (draining && writerDone);
    }
}
