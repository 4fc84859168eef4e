package io.signalbox.routing.internal;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.AsyncBackend;
import io.signalbox.api.Backend;
import io.signalbox.api.Batch;

/**
 * What the producers and the two jobs of one {@link Channel} (its writer and its spooler, each a
 * {@link SerialTask} on the shared {@link ChannelExecutor}) share, under its one lock: the
 * {@link ChannelQueue}, the {@link CircuitBreaker}, the bound backend and the flags of the
 * shutdown; and every decision taken on them: what the writer writes next ({@link #nextTurn}),
 * what the spooler moves to disk ({@link #nextChunk}). Neither ever waits here: when there is
 * nothing to do now the answer is a {@link Park} (until a change wakes the job, or for a time),
 * and every change that may give a job work wakes it. Nothing here does I/O, so the lock is never
 * held while the spool or the backend is used; it is taken once per batch by the producer and a
 * few times per batch by the jobs, never per message.
 *
 * <p>Order: a batch the writer has taken from the front of the queue stays reserved until it is
 * written or dead-lettered; the spooler moves only batches it has not taken. So the order of
 * delivery is always the reserved batches, then the spool, then the rest of the queue.
 *
 * <p>In flight: to an {@link AsyncBackend} with {@code max.in.flight} above 1 the writer starts up
 * to that many batches without waiting ({@link Turn#async}); each completion wakes the writer,
 * which reports it here ({@link #written}, {@link #failed}). A failed batch stays reserved and is
 * written again before anything else ({@link #retry}), after later batches may have been written:
 * the order across a retry is not kept then. Only one batch is in flight while the breaker is not
 * closed (the probe), and the spool is replayed one batch at a time with {@link Backend#write},
 * once nothing is in flight.
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

    private final String name;
    private final Supplier<RoutingSettings> settings;
    private final ChannelSpool spool;
    private final ChannelQueue queue = new ChannelQueue();
    private final CircuitBreaker breaker = new CircuitBreaker(System::nanoTime, Backoff.jittered()::jitter);
    private final ReentrantLock lock = new ReentrantLock();
    /** Waiters outside the jobs ({@link #awaitDrained}, {@link #awaitNotWritingWith}). */
    private final Condition changed = lock.newCondition();
    /** The writer and spooler jobs; {@code null} until {@link #runOn} (tests of the decisions alone). */
    private SerialTask writerTask;
    private SerialTask spoolerTask;

    // guarded by lock
    private Backend backend;
    /** The backend of the synchronous write in progress. */
    private Backend writingWith;
    /** Asynchronous writes outstanding, all to {@link #inFlightWith}. */
    private int inFlight;
    private Backend inFlightWith;
    /** Reserved batches whose write failed: written again before anything else, oldest first. */
    private final ArrayDeque<ChannelQueue.Entry> retry = new ArrayDeque<>();
    private boolean draining;
    private boolean stopped;
    private boolean writerDone;
    private boolean spoolFailed;
    private long spoolRetryAt;
    /** The spooler is appending batches it took from the queue (not yet removed). */
    private boolean spoolerBusy;
    /** After a failed write: no retry to {@link #retryBackend} before {@link #retryAt} (nanoTime). */
    private Backend retryBackend;
    private long retryAt;
    /** A throttled replay waits until {@link #replayAt} (nanoTime). */
    private boolean replayWaiting;
    private long replayAt;
    /** Written under lock, read without: replay throttled, set by an outage, cleared when the spool is empty again. */
    private volatile boolean recovering;
    /** Written under lock, read without for the gauges. */
    private volatile boolean hasBackend;
    private volatile int inFlightGauge;

    /** @param settings the settings in force, read whenever a value is needed */
    ChannelState(String name, Supplier<RoutingSettings> settings, ChannelSpool spool) {
        this.name = name;
        this.settings = settings;
        this.spool = spool;
    }

    /** Runs {@code writer} and {@code spooler} as jobs on {@code executor}; call once, before {@link #start}. */
    void runOn(ScheduledExecutorService executor, Runnable writer, Runnable spooler) {
        writerTask = new SerialTask("writer of channel " + name, executor, writer);
        spoolerTask = new SerialTask("spooler of channel " + name, executor, spooler);
    }

    /** Starts the jobs: the writer, and the spooler if the channel has a spool. */
    void start() {
        writerTask.wake();
        if (spool.available()) {
            spoolerTask.wake();
        }
    }

    SerialTask writerTask() {
        return writerTask;
    }

    SerialTask spoolerTask() {
        return spoolerTask;
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

    /** Batches written asynchronously and not acknowledged yet (gauge; read without the lock). */
    int inFlight() {
        return inFlightGauge;
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
            boolean wasOver = queue.isOver();
            queue.add(batch, completion, settings.get().queueMessages());
            wakeWriter();
            if (!wasOver && queue.isOver()) {
                wakeSpooler(); // it sets its timer for the spill
            } else {
                signalSpooler();
            }
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
        signalChanged();
        signalSpooler();
    }

    /** Waits until no write to {@code b} is in progress, up to {@code timeoutMillis}; {@code true} if none is. */
    boolean awaitNotWritingWith(Backend b, long timeoutMillis) {
        long remaining = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (writingTo(b)) {
                if (remaining <= 0) {
                    return false;
                }
                remaining = changed.awaitNanos(remaining);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !writingTo(b);
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held: whether a write to {@code b} is in progress or outstanding. */
    private boolean writingTo(Backend b) {
        return b != null && (writingWith == b || (inFlight > 0 && inFlightWith == b));
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
            signalChanged();
            wakeSpooler();
        } finally {
            lock.unlock();
        }
    }

    /** After {@link #stop}, with both threads ended: empties the queue and returns what it held. */
    List<ChannelQueue.Entry> removeAll() {
        lock.lock();
        try {
            List<ChannelQueue.Entry> left = queue.removeAll();
            signalChanged();
            return left;
        } finally {
            lock.unlock();
        }
    }

    // --- the writer's transitions (ChannelWriter) ---------------------------------------------

    /** What a job does next: a {@link Turn} or a chunk, {@link Park}, or {@link Done}. */
    sealed interface Step permits Turn, Chunk, Park, Done {
    }

    /**
     * The writer writes {@code entry}, or replays the spool if it is {@code null}; {@code async}: with
     * {@link AsyncBackend#writeAsync}, without waiting; {@code probe}: the write that closes or reopens
     * the breaker.
     */
    record Turn(Backend backend, ChannelQueue.Entry entry, boolean async, boolean probe) implements Step {
    }

    /** The spooler appends these batches to the spool (none: only the periodic force is due). */
    record Chunk(List<ChannelQueue.Entry> entries) implements Step {
    }

    /** Nothing to do now: the job returns, and runs again when woken, or after {@code nanos} if that is >= 0. */
    record Park(long nanos) implements Step {
        static final Park UNTIL_WOKEN = new Park(-1);
    }

    /** The job is over (stopped; or, for the writer, drained). */
    enum Done implements Step {
        DONE
    }

    /** What the writer does next; never waits. */
    Step nextTurn() {
        lock.lock();
        try {
            if (stopped || writerDone) {
                return Done.DONE;
            }
            long now = System.nanoTime();
            if (retryBackend != null) {
                if ((backend == retryBackend || backend == null) && retryAt - now > 0) {
                    return new Park(retryAt - now); // backing off; another backend bound ends it early
                }
                retryBackend = null;
            }
            if (replayWaiting) {
                if (!draining && replayAt - now > 0) {
                    return new Park(replayAt - now);
                }
                replayWaiting = false;
            }
            Backend b = backend;
            boolean open = breaker.isOpen();
            boolean spoolHasRecords = spool.hasRecords();
            if (draining) {
                // deliver what is in memory while the backend is healthy; a spool waits for the next start
                boolean nothingToDo = retry.isEmpty() && (!queue.movable() || spoolHasRecords);
                if (b == null || open || nothingToDo) {
                    // what is in flight is waited for: its completion wakes the writer
                    return inFlight > 0 ? Park.UNTIL_WOKEN : Done.DONE;
                }
            }
            if (b != null && !open) {
                RoutingSettings s = settings.get();
                boolean async = b instanceof AsyncBackend && s.maxInFlight() > 1;
                // in flight to a backend bound before, or a write in order next: the completions come first
                if (inFlight > 0 && (inFlightWith != b || !async)) {
                    return Park.UNTIL_WOKEN;
                }
                // one batch at a time while the breaker is not closed (the probe) and after a failure until a
                // write succeeds: retries do not flood a sick backend, and failures count as they do for one
                boolean healthy = breaker.state() == CircuitBreaker.State.CLOSED && breaker.consecutiveFailures() == 0;
                int window = healthy ? s.maxInFlight() : 1;
                if (!retry.isEmpty()) {
                    return inFlight < window ? turn(b, retry.poll(), async) : Park.UNTIL_WOKEN;
                }
                if (spoolerBusy) {
                    return Park.UNTIL_WOKEN; // the front of the queue is on its way to the spool: it comes first
                }
                if (spoolHasRecords && !draining) {
                    return inFlight == 0 ? turn(b, null, false) : Park.UNTIL_WOKEN;
                }
                if (queue.movable()) {
                    return inFlight < window ? turn(b, queue.reserveNext(), async) : Park.UNTIL_WOKEN;
                }
                if (!spoolHasRecords) {
                    recovering = false;
                }
            }
            if ((b == null || open) && releaseRetriesToSpool()) {
                signalSpooler();
            }
            return open ? new Park(Math.max(1, breaker.nanosUntilProbe())) : Park.UNTIL_WOKEN;
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held; {@code async} only for a queued entry. */
    private Turn turn(Backend b, ChannelQueue.Entry entry, boolean async) {
        if (async) {
            inFlight++;
            inFlightGauge = inFlight;
            inFlightWith = b;
        } else {
            writingWith = b;
        }
        boolean probe = breaker.beginWrite();
        if (probe) {
            LOG.debug("backend {}: circuit breaker half-open, probing with one batch", name);
        }
        return new Turn(b, entry, async, probe);
    }

    /** Called with the lock held: the write of {@code turn} is over (its outcome is being reported). */
    private void ended(Turn turn) {
        if (turn.async()) {
            inFlight--;
            inFlightGauge = inFlight;
            if (inFlight == 0) {
                inFlightWith = null;
            }
        } else {
            writingWith = null;
        }
    }

    /**
     * Called with the lock held, while nothing may be written: if nothing is spooled yet, the
     * reserved batches waiting for a retry are released, so that they go to the spool first, in
     * order (batches still in flight join them if they fail).
     */
    private boolean releaseRetriesToSpool() {
        if (!retry.isEmpty() && spool.available() && !spoolerBusy && !spool.hasRecords()) {
            for (ChannelQueue.Entry e : retry) {
                queue.release(e);
            }
            retry.clear();
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
        boolean closed = false;
        lock.lock();
        try {
            ended(turn);
            if (stopped) {
                changed.signalAll();
                return false;
            }
            // a batch sent before the breaker opened does not close it: only the probe does
            if (turn.probe() || breaker.state() == CircuitBreaker.State.CLOSED) {
                closed = breaker.succeeded();
            }
            if (turn.entry() != null) {
                queue.removeWritten(turn.entry(), settings.get().queueMessages());
            }
            changed.signalAll(); // (the writer itself goes on: no wake-up needed)
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

    /**
     * The write of {@code turn} failed: its batch waits for the retry (reserved, first in line);
     * counted against the breaker; if that opened it, the queue goes to the spool.
     */
    CircuitBreaker.Trip failed(Turn turn) {
        RoutingSettings s = settings.get();
        lock.lock();
        try {
            ended(turn);
            if (turn.entry() != null && !stopped) {
                retry.add(turn.entry());
            }
            // a batch sent before the breaker opened is retried, but counts no more against it
            boolean counts = turn.probe() || breaker.state() == CircuitBreaker.State.CLOSED;
            CircuitBreaker.Trip trip = counts ? breaker.failed(s) : CircuitBreaker.Trip.NONE;
            if (trip != CircuitBreaker.Trip.NONE) {
                recovering = true;
                releaseRetriesToSpool();
            }
            changed.signalAll(); // (called by the writer: no wake-up needed)
            signalSpooler(); // the spooler moves the queue while the breaker is open
            return trip;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Nothing is being written; the writer waits {@code waitNanos} (if above 0) before its next
     * turn, ending early when stopped or draining.
     */
    void notWriting(long waitNanos) {
        lock.lock();
        try {
            writingWith = null;
            changed.signalAll();
            if (waitNanos > 0) {
                replayWaiting = true;
                replayAt = System.nanoTime() + waitNanos;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The writer waits {@code delayMillis} before its next turn, ending early when stopped or another backend is bound. */
    void backOff(Backend failed, long delayMillis) {
        lock.lock();
        try {
            retryBackend = failed;
            retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis);
        } finally {
            lock.unlock();
        }
    }

    /** The writer ended; its reserved batches go to the spooler, in their places at the front of the queue. */
    void writerDone() {
        lock.lock();
        try {
            writingWith = null;
            writerDone = true;
            for (ChannelQueue.Entry e : retry) {
                queue.release(e);
            }
            retry.clear();
            changed.signalAll();
            wakeSpooler();
        } finally {
            lock.unlock();
        }
        if (writerTask != null) {
            writerTask.finish();
        }
    }

    // --- the spooler's transitions (ChannelSpooler) -------------------------------------------

    /** What the spooler does next: a {@link Chunk} to append, {@link Park}, or {@link Done} when stopped; never waits. */
    Step nextChunk() {
        lock.lock();
        try {
            if (stopped || !spool.available()) {
                return Done.DONE;
            }
            long now = System.nanoTime();
            if (queue.movable() && mustSpool() && !(spoolFailed && now - spoolRetryAt < 0)) {
                spoolerBusy = true;
                return new Chunk(queue.chunk(SPOOL_CHUNK));
            }
            long wait = queue.nanosUntilSpill(settings.get().spillAfterMillis(), now);
            if (spoolFailed) {
                wait = Math.min(wait, Math.max(1, spoolRetryAt - now));
            }
            wait = Math.min(wait, spool.nanosUntilDue()); // the periodic fsync / cursor write
            return wait == Long.MAX_VALUE ? Park.UNTIL_WOKEN : new Park(wait);
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
            signalChanged();
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held: wakes the spooler if queued batches belong on disk now. */
    private void signalSpooler() {
        if (spool.available() && mustSpool()) {
            wakeSpooler();
        }
    }

    /** Called with the lock held: wakes the waiters and the writer. */
    private void signalChanged() {
        changed.signalAll();
        wakeWriter();
    }

    private void wakeWriter() {
        if (writerTask != null) {
            writerTask.wake();
        }
    }

    private void wakeSpooler() {
        if (spoolerTask != null) {
            spoolerTask.wake();
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
