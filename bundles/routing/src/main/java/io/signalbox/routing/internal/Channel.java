package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.LogLimiter;

/**
 * The delivery channel of one backend name: a bounded in-memory FIFO of batch parts, a disk
 * {@link Spool}, a circuit breaker, and two threads of its own.
 *
 * <p>The <b>writer</b> writes batches, in order, to the backend bound under the name. A failed
 * write is retried with exponential back-off and jitter; {@code breaker.failures} consecutive
 * failures open the breaker, and after {@code breaker.open.ms} one probe write is let through
 * (half-open): success closes it, failure opens it again. A write that throws
 * {@link BatchRejectedException} is not retried: its messages go to the {@link DeadLetters} file
 * with the reason.
 *
 * <p>The <b>spooler</b> moves queued batches to the disk spool and runs their callbacks once they
 * are in it, so a sick backend never holds more of correlation's in-flight capacity than its
 * bound, and other backends keep flowing. It does so while no backend is bound, while the
 * breaker is open, and whenever more than {@code channel.queue.messages} are queued (a slow
 * backend). The writer replays the spool, oldest first, before anything queued after it; after
 * an outage (absent backend, open breaker) at most {@code replay.rate} messages per second.
 *
 * <p>Order: the batch the writer has taken from the head of the queue ({@code head}) stays
 * reserved until it is written or dead-lettered; the spooler moves only batches behind it. So
 * the order of delivery is always head, then the spool, then the rest of the queue.
 *
 * <p>Shutdown: {@link #beginDrain} stops taking batches; the writer delivers what is queued while
 * the backend is healthy and the spool is empty (a non-empty spool is left for the next start,
 * and the queue behind it is spooled); {@link #stop} then appends whatever is still in memory to
 * the spool. Only a batch whose write was still running at {@code stop} can be written twice
 * (it is spooled as well); if it is spooled behind newer batches it is replayed after them.
 *
 * <p>One lock per channel, taken once per batch by the producer and a few times per batch by the
 * threads; never per message. The lock is never held while the spool or the backend is used.
 */
final class Channel {
    private static final Logger LOG = LoggerFactory.getLogger(Channel.class);

    /** Live settings, read whenever they are needed, so a configuration change applies at once. */
    interface Policy {
        long initialMillis();

        long maxMillis();

        /** Consecutive failed writes that open the breaker. */
        default int breakerFailures() {
            return 5;
        }

        /**
         * Share of failed writes among the last {@link #breakerWindow()} that opens the breaker
         * (0 = only consecutive failures count).
         */
        default double breakerErrorRate() {
            return 0.5;
        }

        /** Writes the error rate is measured over (2..64). */
        default int breakerWindow() {
            return 20;
        }

        /** How long the breaker stays open before one probe. */
        default long breakerOpenMillis() {
            return 10_000;
        }

        /** Messages queued in memory above which batches go to the spool. */
        default long queueMessages() {
            return 2_000;
        }

        /**
         * How long the queue must stay above {@link #queueMessages()} before batches go to the
         * spool: a healthy backend that is a few milliseconds behind catches up from memory,
         * which costs far less than a round trip through the disk.
         */
        default long spillAfterMillis() {
            return 1_000;
        }

        /** Messages per second replayed from the spool after an outage; 0 = no limit. */
        default long replayRate() {
            return 20_000;
        }
    }

    /** State of the breaker, with the value of the {@code signalbox_backend_breaker_state} gauge. */
    enum Breaker {
        CLOSED, HALF_OPEN, OPEN
    }

    /** A queued batch part. Identity matters: the same batch may be queued twice. */
    private static final class Entry {
        final Batch batch;
        final Completion completion;

        Entry(Batch batch, Completion completion) {
            this.batch = batch;
            this.completion = completion;
        }
    }

    /** Most batches moved to the spool per turn of the spooler (the lock is not held meanwhile). */
    private static final int SPOOL_CHUNK = 256;
    private static final long SPOOL_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How often the spooler wakes to fsync the spool when {@code spool.fsync=interval}. */
    private static final long IDLE_WAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final String name;
    private final Policy policy;
    private final ReentrantLock lock = new ReentrantLock();
    /** Writer and waiters ({@link #awaitDrained}, {@link #awaitNotWritingWith}). */
    private final Condition changed = lock.newCondition();
    /** Spooler only, signalled when batches may have to go to disk (not on every enqueue). */
    private final Condition spoolWork = lock.newCondition();
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private final LongAdder routed = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final LongAdder writeNanos = new LongAdder();
    private final LongAdder spooledMessages = new LongAdder();
    private final LongAdder replayedMessages = new LongAdder();
    private final LongAdder breakerOpened = new LongAdder();
    /** Duration of successful writes. */
    private final io.signalbox.api.LatencyHistogram writeLatency = new io.signalbox.api.LatencyHistogram();
    /** From the receipt of a batch's oldest message to the backend's acknowledgement (direct writes and replays). */
    private final io.signalbox.api.LatencyHistogram pipelineLatency = new io.signalbox.api.LatencyHistogram();
    private final LogLimiter failureLog = new LogLimiter();
    private final LogLimiter spoolLog = new LogLimiter();
    private static final int PROBE_LOG_SECONDS = 60;
    private final LogLimiter probeLog = new LogLimiter(PROBE_LOG_SECONDS, TimeUnit.SECONDS);
    private final Path spoolDir;
    private final Spool.Limits spoolLimits;
    private final DeadLetters deadLetters;
    private final Thread writer;
    private final Thread spooler;
    /** Set once by the first thread that needs it; {@code null} if there is none or it broke. */
    private volatile Spool spool;
    private boolean spoolOpened;

    // guarded by lock
    private Backend backend;
    private Backend writingWith;
    /** The queue's head while the writer has it (reserved until written). */
    private Entry head;
    private boolean draining;
    private boolean stopped;
    private boolean writerDone;
    private boolean spoolFailed;
    private long spoolRetryAt;
    /** The spooler is appending batches it took from the queue (not yet removed). */
    private boolean spooling;
    private Breaker breaker = Breaker.CLOSED;
    private long breakerOpenUntil;
    private int consecutiveFailures;
    /** Outcomes of the last writes since the breaker closed, newest in bit 0 (1 = failed). */
    private long outcomes;
    private int outcomeCount;
    /** Replay throttled: set by an outage, cleared when the spool is empty again. */
    private boolean recovering;
    /** {@link System#nanoTime()} when the queue went above its bound; meaningful while {@link #over}. */
    private long overSince;
    private boolean over;
    // written under lock, read without for the gauges
    private volatile long queuedMessages;
    private volatile int queuedBatches;
    private volatile boolean hasBackend;
    private volatile Breaker breakerState = Breaker.CLOSED;

    Channel(String name, Policy policy) {
        this(name, policy, null, null, null);
    }

    /**
     * @param spoolDir      the directory of this backend's spool, or {@code null} for none
     *                      (batches then wait in memory, and the queue is not bounded here)
     * @param spoolLimits   its bounds and fsync policy
     * @param deadLetterDir the directory of this backend's dead-letter files, or {@code null} for
     *                      none (a rejected batch is then logged with its reason and dropped)
     */
    Channel(String name, Policy policy, Path spoolDir, Spool.Limits spoolLimits, Path deadLetterDir) {
        this.name = name;
        this.policy = policy;
        this.spoolDir = spoolDir;
        this.spoolLimits = spoolLimits;
        this.deadLetters = new DeadLetters(name, deadLetterDir);
        this.writer = new Thread(this::writeLoop, "signalbox-channel-" + name);
        this.writer.setDaemon(true);
        this.spooler = new Thread(this::spoolLoop, "signalbox-spooler-" + name);
        this.spooler.setDaemon(true);
    }

    void start() {
        openSpool();
        writer.start();
        if (spool != null) {
            spooler.start();
        }
    }

    String name() {
        return name;
    }

    /**
     * Queues one batch part; {@code completion.partDone()} runs once the backend wrote it, it
     * was dead-lettered, or it is in the spool.
     *
     * @return {@code false} if the channel is stopping and did not take the batch
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
            if (!over && queuedMessages > policy.queueMessages()) {
                over = true;
                overSince = System.nanoTime();
            }
            changed.signal();
            signalSpooler();
        } finally {
            lock.unlock();
        }
        routed.add(n);
        return true;
    }

    /** Binds a backend (replacing any other) with a closed breaker; waiting batches start flowing to it. */
    void attach(Backend b) {
        lock.lock();
        try {
            backend = b;
            hasBackend = b != null;
            if (b != null) {
                closeBreaker();
            } else {
                recovering = true;
            }
            changed.signalAll();
            signalSpooler();
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
                if (replacement != null) {
                    closeBreaker();
                } else {
                    recovering = true;
                }
                changed.signalAll();
                signalSpooler();
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
        if (Thread.currentThread() == writer) {
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
     * Stops taking batches. The writer delivers what is queued while it can (backend bound,
     * breaker closed, spool empty); the spooler moves the rest to the spool.
     */
    void beginDrain() {
        lock.lock();
        try {
            draining = true;
            changed.signalAll();
            spoolWork.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the writer has nothing more to deliver and the queue is empty (written or
     * spooled), until {@code deadlineNanos} ({@link System#nanoTime()} based).
     */
    boolean awaitDrained(long deadlineNanos) {
        lock.lock();
        try {
            while (!(writerDone && (queue.isEmpty() || spool == null))) {
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

    /**
     * Ends both threads and appends what is still queued (including a batch whose write is
     * still running) to the spool, then closes it.
     *
     * @return the messages that could not be spooled either (no spool, or it failed)
     */
    long stop() {
        lock.lock();
        try {
            stopped = true;
            changed.signalAll();
            spoolWork.signal();
        } finally {
            lock.unlock();
        }
        // never interrupted: an interrupt during a spool read or write would close the spool's files.
        // A writer stuck in a backend's write is left behind; its batch is spooled below as well.
        join(writer);
        join(spooler);
        List<Entry> left;
        lock.lock();
        try {
            left = new ArrayList<>(queue);
            queue.clear();
            head = null;
            queuedMessages = 0;
            queuedBatches = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        long unspooled = 0;
        if (!left.isEmpty()) {
            long messages = 0;
            for (Entry e : left) {
                messages += e.batch.size();
            }
            int done = appendToSpool(left);
            long spooled = 0;
            for (int i = 0; i < done; i++) {
                spooled += left.get(i).batch.size();
                left.get(i).completion.partDone();
            }
            unspooled = messages - spooled;
            if (done > 0) {
                LOG.info("backend {}: {} messages still queued at shutdown went to its spool (replayed at the next start)",
                        name, spooled);
            }
            if (unspooled > 0) {
                LOG.error("backend {}: {} messages queued at shutdown could not be spooled and are lost", name, unspooled);
            }
        }
        deadLetters.close();
        closeSpool();
        return unspooled;
    }

    private static void join(Thread t) {
        if (!t.isAlive()) {
            return;
        }
        try {
            t.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("{} did not end within 5 s; what it holds is spooled and may be written twice", t.getName());
        }
    }

    // --- gauges ----------------------------------------------------------------------------

    long queuedMessages() {
        return queuedMessages;
    }

    int queuedBatches() {
        return queuedBatches;
    }

    boolean waitingForBackend() {
        return !hasBackend;
    }

    Breaker breaker() {
        return breakerState;
    }

    long breakerOpenedCount() {
        return breakerOpened.sum();
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

    long spoolIgnoredFiles() {
        Spool sp = spool;
        return sp == null ? 0 : sp.ignoredFiles();
    }

    long spooledMessages() {
        return spooledMessages.sum();
    }

    long replayedMessages() {
        return replayedMessages.sum();
    }

    long deadLetteredMessages() {
        return deadLetters.messages();
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

    io.signalbox.api.LatencyHistogram writeLatency() {
        return writeLatency;
    }

    io.signalbox.api.LatencyHistogram pipelineLatency() {
        return pipelineLatency;
    }

    /** The state for /health: see {@link io.signalbox.api.BackendStatus.State}. */
    io.signalbox.api.BackendStatus.State state() {
        if (!hasBackend) {
            return io.signalbox.api.BackendStatus.State.WAITING_FOR_BUNDLE;
        }
        Breaker b = breakerState;
        if (b == Breaker.OPEN) {
            return io.signalbox.api.BackendStatus.State.BREAKER_OPEN;
        }
        if (b == Breaker.HALF_OPEN || consecutiveFailuresNow() > 0 || spoolMessages() > 0) {
            return io.signalbox.api.BackendStatus.State.DEGRADED;
        }
        return io.signalbox.api.BackendStatus.State.UP;
    }

    private int consecutiveFailuresNow() {
        lock.lock();
        try {
            return consecutiveFailures;
        } finally {
            lock.unlock();
        }
    }

    /** Total seconds spent in successful writes (with {@link #batchesWritten()}: the mean latency). */
    double writeSeconds() {
        return writeNanos.sum() / 1e9;
    }

    // --- writer ----------------------------------------------------------------------------

    /** What the writer does next: write {@code entry}, or replay the spool if it is null. */
    private record Turn(Backend backend, Entry entry, boolean probe) {
    }

    private void writeLoop() {
        int attempt = 0;
        long replayTokens = 0;
        long replayClock = System.nanoTime();
        try {
            while (true) {
                Turn turn = nextTurn();
                if (turn == null) {
                    return;
                }
                Spool.Record record = null;
                Batch batch;
                if (turn.entry() != null) {
                    batch = turn.entry().batch;
                } else {
                    record = peekSpool();
                    if (record == null) {
                        notWriting();
                        continue;
                    }
                    batch = record.batch();
                    if (throttled()) {
                        // token bucket: one token per message, refilled at replay.rate, at most one second's worth
                        long rate = policy.replayRate();
                        long now = System.nanoTime();
                        replayTokens = Math.min(rate, replayTokens + (now - replayClock) * rate / 1_000_000_000L);
                        replayClock = now;
                        if (replayTokens < batch.size() && replayTokens < rate) {
                            long waitNanos = (Math.min(batch.size(), rate) - replayTokens) * 1_000_000_000L / rate;
                            notWriting();
                            pause(waitNanos);
                            continue;
                        }
                        replayTokens -= batch.size();
                    }
                }

                long started = System.nanoTime();
                Throwable failure = write(turn.backend(), batch);
                long took = System.nanoTime() - started;

                if (failure instanceof BatchRejectedException rejected) {
                    try {
                        deadLetters.write(batch, rejected.getMessage());
                        failure = null;
                    } catch (IOException e) {
                        e.addSuppressed(rejected);
                        failure = e; // kept and retried: never dropped because the dead-letter file failed
                    }
                } else if (failure == null) {
                    writeNanos.add(took);
                    written.increment();
                    writeLatency.record(took);
                    if (batch.receivedNanos() != 0) {
                        pipelineLatency.record(System.nanoTime() - batch.receivedNanos());
                    }
                }

                if (failure == null) {
                    attempt = 0;
                    if (!done(turn, record)) {
                        return;
                    }
                } else {
                    failures.increment();
                    long delay = jitter(backoffMillis(attempt++));
                    boolean opened = failed(turn, batch, attempt, delay, failure);
                    if (!opened) {
                        backOff(turn.backend(), delay);
                    }
                }
            }
        } catch (InterruptedException e) {
            LOG.debug("channel {} interrupted", name);
        } finally {
            lock.lock();
            try {
                writingWith = null;
                writerDone = true;
                head = null; // the spooler takes it, in its place at the front of the queue
                changed.signalAll();
                spoolWork.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits for something to write; {@code null} when the writer is done. */
    private Turn nextTurn() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (stopped) {
                    return null;
                }
                Backend b = backend;
                long now = System.nanoTime();
                boolean open = breaker == Breaker.OPEN && now - breakerOpenUntil < 0;
                boolean spoolHasRecords = spool != null && !spool.isEmpty();
                if (draining) {
                    // deliver what is in memory while the backend is healthy; a spool waits for the next start
                    boolean nothingToDo = head == null && (queue.isEmpty() || spoolHasRecords);
                    if (b == null || open || nothingToDo) {
                        return null;
                    }
                }
                if (b != null && !open) {
                    boolean probe = breaker == Breaker.OPEN;
                    if (head != null) {
                        writingWith = b;
                        return startProbe(new Turn(b, head, probe));
                    }
                    if (spooling) {
                        changed.await(); // the front of the queue is on its way to the spool: it comes first
                        continue;
                    }
                    if (spoolHasRecords && !draining) {
                        writingWith = b;
                        return startProbe(new Turn(b, null, probe));
                    }
                    if (!queue.isEmpty()) {
                        head = queue.peekFirst();
                        writingWith = b;
                        return startProbe(new Turn(b, head, probe));
                    }
                    if (!spoolHasRecords) {
                        recovering = false;
                    }
                }
                if (head != null && (b == null || open) && spool != null && !spooling && spool.isEmpty()) {
                    // nothing spooled behind it yet: release it, so it goes to the spool first, in order
                    head = null;
                    signalSpooler();
                }
                if (open) {
                    changed.awaitNanos(breakerOpenUntil - now);
                } else {
                    changed.await();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held. */
    private Turn startProbe(Turn t) {
        if (t.probe()) {
            breaker = Breaker.HALF_OPEN;
            breakerState = Breaker.HALF_OPEN;
            LOG.debug("backend {}: circuit breaker half-open, probing with one batch", name);
        }
        return t;
    }

    private boolean throttled() {
        lock.lock();
        try {
            return recovering && policy.replayRate() > 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The batch of {@code turn} is written (or dead-lettered): consume it and close the breaker.
     *
     * @return {@code false} if the channel was stopped meanwhile (what it held is spooled by stop)
     */
    private boolean done(Turn turn, Spool.Record record) {
        Entry entry = turn.entry();
        lock.lock();
        try {
            writingWith = null;
            if (stopped) {
                changed.signalAll();
                return false;
            }
            if (breaker != Breaker.CLOSED) {
                LOG.info("backend {}: circuit breaker closed, the probe succeeded; {} spooled messages are replayed "
                        + "first{}", name, spoolMessages(), policy.replayRate() > 0
                                ? " at up to " + policy.replayRate() + " messages/s" : "");
                closeBreaker();
            }
            consecutiveFailures = 0;
            outcomes <<= 1;
            outcomeCount++;
            if (entry != null) {
                queue.removeFirstOccurrence(entry);
                head = null;
                queuedMessages -= entry.batch.size();
                queuedBatches--;
                over &= queuedMessages > policy.queueMessages();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (entry != null) {
            entry.completion.partDone();
        } else {
            advanceSpool(record);
            replayedMessages.add(record.batch().size());
        }
        return true;
    }

    /**
     * Counts a failure against the breaker and logs it.
     *
     * @return whether the breaker is open now (no back-off: the writer waits for the probe time)
     */
    private boolean failed(Turn turn, Batch batch, int attempt, long delay, Throwable failure) {
        boolean opened = false;
        int consecutive;
        lock.lock();
        try {
            writingWith = null;
            consecutive = ++consecutiveFailures;
            outcomes = (outcomes << 1) | 1;
            outcomeCount++;
            String why = consecutive >= policy.breakerFailures() ? consecutive + " consecutive failed writes" : errorRate();
            if (breaker == Breaker.HALF_OPEN || (breaker == Breaker.CLOSED && why != null)) {
                breakerOpenUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(jitter(policy.breakerOpenMillis()));
                if (breaker == Breaker.CLOSED) {
                    breakerOpened.increment();
                    LOG.warn("backend {}: circuit breaker open after {}; batches for it go to its spool, next probe in "
                            + "{} ms; last failure: {}", name, why, policy.breakerOpenMillis(), failure.toString());
                } else {
                    long suppressed = probeLog.permit(1);
                    if (suppressed >= 0) {
                        LOG.warn("backend {}: circuit breaker stays open, the probe failed ({} more failed probes not "
                                + "logged in the last {} s); next probe in about {} ms: {}", name, suppressed,
                                PROBE_LOG_SECONDS, policy.breakerOpenMillis(), failure.toString());
                    }
                }
                breaker = Breaker.OPEN;
                breakerState = Breaker.OPEN;
                recovering = true;
                opened = true;
                if (head != null && spool != null && !spooling && spool.isEmpty()) {
                    head = null; // nothing spooled behind it: it goes to the spool first, in order
                }
            }
            changed.signalAll();
            signalSpooler(); // the spooler moves the queue while the breaker is open
        } finally {
            lock.unlock();
        }
        if (!opened) {
            long suppressed = failureLog.permit(1);
            if (suppressed >= 0) {
                LOG.warn("backend {}: writing a batch of {} messages{} failed (attempt {}), retrying in {} ms "
                        + "({} more failures not logged in the last {} s): {}", name, batch.size(),
                        turn.entry() == null ? " from the spool" : "", attempt, delay, suppressed,
                        LogLimiter.DEFAULT_INTERVAL_SECONDS, failure.toString(), failure);
            }
        }
        return opened;
    }

    /**
     * Called with the lock held: "N of the last W writes failed" if that reaches
     * {@code breaker.error.rate}, else {@code null}.
     */
    private String errorRate() {
        double rate = policy.breakerErrorRate();
        int window = Math.max(2, Math.min(64, policy.breakerWindow()));
        if (rate <= 0 || outcomeCount < window) {
            return null;
        }
        int failed = Long.bitCount(window == 64 ? outcomes : outcomes & ((1L << window) - 1));
        return failed >= rate * window ? failed + " of the last " + window + " writes failed" : null;
    }

    /** Called with the lock held. */
    private void closeBreaker() {
        breaker = Breaker.CLOSED;
        breakerState = Breaker.CLOSED;
        consecutiveFailures = 0;
        outcomes = 0;
        outcomeCount = 0;
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

    /** Sleeps {@code nanos}, ending early when stopped or draining. */
    private void pause(long nanos) throws InterruptedException {
        long remaining = nanos;
        lock.lock();
        try {
            while (remaining > 0 && !stopped && !draining) {
                remaining = changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits {@code delayMillis}, ending early when stopped, draining, or when another backend was bound. */
    private void backOff(Backend failed, long delayMillis) throws InterruptedException {
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

    /** The back-off before retry number {@code attempt + 1}, without jitter: initial × 2^attempt, at most max. */
    long backoffMillis(int attempt) {
        long initial = Math.max(1, policy.initialMillis());
        long max = Math.max(initial, policy.maxMillis());
        long d = initial;
        for (int i = 0; i < attempt && d < max; i++) {
            d *= 2;
        }
        return Math.min(d, max);
    }

    /** {@code millis} ± 20 %, so that channels failing together do not retry in lockstep. */
    static long jitter(long millis) {
        return Math.max(1, Math.round(millis * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
    }

    // --- spooler ---------------------------------------------------------------------------

    private void spoolLoop() {
        try {
            while (true) {
                List<Entry> chunk = nextChunk();
                if (chunk == null) {
                    return;
                }
                if (!chunk.isEmpty()) {
                    moveToSpool(chunk);
                }
                Spool sp = spool;
                if (sp != null) {
                    forceSpool(sp);
                }
            }
        } catch (InterruptedException e) {
            LOG.debug("spooler of channel {} interrupted", name);
        }
    }

    /** The next batches to spool (empty: just the periodic fsync), or {@code null} when stopped. */
    private List<Entry> nextChunk() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                if (stopped || spool == null) {
                    return null;
                }
                long now = System.nanoTime();
                boolean movable = queue.size() > (head == null ? 0 : 1);
                if (movable && mustSpool() && !(spoolFailed && now - spoolRetryAt < 0)) {
                    List<Entry> out = new ArrayList<>(Math.min(queue.size(), SPOOL_CHUNK));
                    Iterator<Entry> it = queue.iterator();
                    while (it.hasNext() && out.size() < SPOOL_CHUNK) {
                        Entry e = it.next();
                        if (e != head) {
                            out.add(e);
                        }
                    }
                    spooling = true;
                    return out;
                }
                long wait = IDLE_WAKE_NANOS;
                if (spoolFailed) {
                    wait = Math.min(wait, Math.max(1, spoolRetryAt - now));
                }
                if (over) {
                    wait = Math.min(wait, Math.max(1, overSince + TimeUnit.MILLISECONDS.toNanos(policy.spillAfterMillis()) - now));
                }
                if (spoolWork.awaitNanos(wait) <= 0) {
                    return List.of(); // woke for the periodic fsync
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held: wakes the spooler if queued batches belong on disk now. */
    private void signalSpooler() {
        if (spool != null && mustSpool()) {
            spoolWork.signal();
        }
    }

    /** Called with the lock held: whether queued batches (behind the head) belong on disk now. */
    private boolean mustSpool() {
        if (backend == null || breaker == Breaker.OPEN) {
            return true;
        }
        if (!spool.isEmpty()) {
            // a backlog is on disk and the writer replays it first: newer batches join it at once, so a
            // backend that stays behind costs the others nothing after its first spill
            return true;
        }
        if (over && queuedMessages > policy.queueMessages()
                && System.nanoTime() - overSince >= TimeUnit.MILLISECONDS.toNanos(policy.spillAfterMillis())) {
            return true; // a backend slower than the traffic for a while: its backlog goes to disk
        }
        // draining: behind a non-empty spool (left for the next start), or once the writer gave up
        return draining && (writerDone || !spool.isEmpty());
    }

    /**
     * Appends the entries to the spool in order, then removes them from the queue and runs their
     * callbacks. On a failure the rest stay queued (in memory) and the spool is tried again a
     * second later.
     */
    private void moveToSpool(List<Entry> entries) {
        int done = appendToSpool(entries);
        long messages = 0;
        for (int i = 0; i < done; i++) {
            messages += entries.get(i).batch.size();
        }
        lock.lock();
        try {
            for (int i = 0; i < done; i++) {
                queue.removeFirstOccurrence(entries.get(i));
            }
            queuedMessages -= messages;
            queuedBatches -= done;
            over &= queuedMessages > policy.queueMessages();
            spooling = false;
            spoolFailed = done < entries.size();
            spoolRetryAt = System.nanoTime() + SPOOL_RETRY_NANOS;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < done; i++) {
            entries.get(i).completion.partDone();
        }
    }

    /** Appends in order until one fails; returns how many are in the spool. */
    private int appendToSpool(List<Entry> entries) {
        Spool sp = spool;
        if (sp == null) {
            return 0;
        }
        int done = 0;
        try {
            for (Entry e : entries) {
                sp.append(e.batch);
                spooledMessages.add(e.batch.size());
                done++;
            }
        } catch (IOException ex) {
            long suppressed = spoolLog.permit(1);
            if (suppressed >= 0) {
                LOG.error("backend {}: its spool {} cannot be written ({} more failures not logged in the last {} s); "
                        + "{} messages wait in memory and slow clients down once correlation's capacity is used: {}",
                        name, spoolDir, suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS, queuedMessages, ex.toString(), ex);
            }
        }
        return done;
    }

    // --- spool access ----------------------------------------------------------------------

    private Spool.Record peekSpool() {
        Spool sp = spool;
        if (sp == null) {
            return null;
        }
        try {
            return sp.peek();
        } catch (IOException e) {
            LOG.error("backend {}: the spool {} cannot be read; its contents are kept on disk and not replayed "
                    + "until the next start, and batches for this backend wait in memory: {}", name, spoolDir,
                    e.toString(), e);
            closeSpool();
            spool = null;
            return null;
        }
    }

    private void advanceSpool(Spool.Record record) {
        Spool sp = spool;
        if (sp == null) {
            return;
        }
        try {
            sp.advance(record);
        } catch (IOException e) {
            LOG.error("backend {}: a replayed spool record could not be marked delivered in {}; it may be replayed "
                    + "again after a restart: {}", name, spoolDir, e.toString(), e);
        }
    }

    private void forceSpool(Spool sp) {
        try {
            sp.forceIfDue();
        } catch (IOException e) {
            long suppressed = spoolLog.permit(1);
            if (suppressed >= 0) {
                LOG.error("backend {}: fsync of its spool {} failed ({} more failures not logged in the last {} s): {}",
                        name, spoolDir, suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS, e.toString(), e);
            }
        }
    }

    private void openSpool() {
        if (spoolDir == null || spoolOpened) {
            return;
        }
        spoolOpened = true;
        try {
            spool = Spool.open(name, spoolDir, spoolLimits);
        } catch (IOException | RuntimeException e) {
            LOG.error("backend {}: the spool {} cannot be opened; batches for this backend wait in memory while it "
                    + "is absent or failing: {}", name, spoolDir, e.toString(), e);
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
}
