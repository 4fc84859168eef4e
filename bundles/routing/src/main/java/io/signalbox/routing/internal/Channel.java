package io.signalbox.routing.internal;

import java.nio.file.Path;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendStatus;
import io.signalbox.api.Batch;
import io.signalbox.api.MetricsSink;

/**
 * The delivery channel of one backend name, made of parts:
 * <ul>
 * <li>{@link ChannelState}: the queue in memory ({@link ChannelQueue}), the {@link CircuitBreaker}
 * and the bound backend under one lock, and every decision taken on them;</li>
 * <li>{@link ChannelWriter}: a job writing batches in order to the backend (up to
 * {@code max.in.flight} at once to an {@link io.signalbox.api.AsyncBackend}), retrying with
 * {@link Backoff}, dead-lettering refused batches ({@link DeadLetters}), replaying the spool no
 * faster than its {@link ReplayThrottle} after an outage;</li>
 * <li>{@link ChannelSpooler}: a job moving queued batches to the disk spool
 * ({@link ChannelSpool}) and running their callbacks once they are in it, so that a sick backend
 * never holds more of correlation's in-flight capacity than its bound and the others keep
 * flowing;</li>
 * <li>{@link ChannelStats}: its counters, histograms and series.</li>
 * </ul>
 * The two jobs are {@link SerialTask}s on the engine's shared {@link ChannelExecutor}: a channel
 * owns no thread.
 *
 * <p>Shutdown: {@link #beginDrain} stops taking batches; the writer delivers what is queued while
 * the backend is healthy and the spool is empty (a non-empty spool is left for the next start,
 * and the queue behind it is spooled); {@link #stop} then appends whatever is still in memory to
 * the spool. Only a batch whose write was still running at {@code stop} can be written twice
 * (it is spooled as well); if it is spooled behind newer batches it is replayed after them. The
 * drain waits for the batches in flight to an asynchronous backend; those still not acknowledged at
 * {@code stop} are spooled the same way (their late acknowledgement is ignored).
 */
final class Channel {
    private static final Logger LOG = LoggerFactory.getLogger(Channel.class);

    private final String name;
    private final ChannelSpool spool;
    private final DeadLetters deadLetters;
    private final ChannelState state;
    private final ChannelStats stats;
    private final ChannelSpooler spooling;

    /**
     * @param settings      the settings in force, read whenever a value is needed
     * @param spoolDir      the directory of this backend's spool, or {@code null} for none
     *                      (batches then wait in memory, and the queue is not bounded here)
     * @param deadLetterDir the directory of this backend's dead-letter files, or {@code null} for
     *                      none (a rejected batch is then logged with its reason and dropped)
     */
    Channel(String name, Supplier<RoutingSettings> settings, Path spoolDir, Path deadLetterDir,
            ChannelExecutor executor) {
        this.name = name;
        this.spool = new ChannelSpool(name, spoolDir, settings);
        this.deadLetters = new DeadLetters(name, deadLetterDir);
        this.state = new ChannelState(name, settings, spool);
        this.stats = new ChannelStats(name, state, spool);
        this.spooling = new ChannelSpooler(state, spool, stats);
        state.runOn(executor.executor(), new ChannelWriter(state, spool, deadLetters, stats), spooling);
    }

    void start() {
        spool.open();
        state.start();
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
        if (!state.offer(batch, completion)) {
            return false;
        }
        stats.routed(batch.size());
        return true;
    }

    /** Binds a backend (replacing any other) with a closed breaker; waiting batches start flowing to it. */
    void attach(Backend b) {
        state.attach(b);
    }

    /**
     * Unbinds {@code gone} if it is the bound backend, putting {@code replacement} (may be
     * {@code null}) in its place; does not wait. See {@link #awaitNotWritingWith}.
     */
    void detach(Backend gone, Backend replacement) {
        state.detach(gone, replacement);
    }

    /**
     * Waits until no write to {@code b} is in progress, up to {@code timeoutMillis}.
     *
     * @return {@code true} if none is in progress any more
     */
    boolean awaitNotWritingWith(Backend b, long timeoutMillis) {
        if (state.writerTask().isRunningHere()) {
            return true; // the backend unregistered itself from inside write(): nothing to wait for
        }
        return state.awaitNotWritingWith(b, timeoutMillis);
    }

    /** Stops taking batches; see {@link ChannelState#beginDrain}. */
    void beginDrain() {
        state.beginDrain();
    }

    /**
     * Waits until the writer has nothing more to deliver and the queue is empty (written or
     * spooled), until {@code deadlineNanos} ({@link System#nanoTime()} based).
     */
    boolean awaitDrained(long deadlineNanos) {
        return state.awaitDrained(deadlineNanos);
    }

    /**
     * Ends both jobs and appends what is still queued (including a batch whose write is
     * still running) to the spool, then closes it.
     *
     * @return the messages that could not be spooled either (no spool, or it failed)
     */
    long stop() {
        state.stop();
        // never interrupted: an interrupt during a spool read or write would close the spool's files.
        // A writer stuck in a backend's write is left behind; its batch is spooled below as well.
        join(state.writerTask());
        join(state.spoolerTask());
        long unspooled = spooling.spoolLeftovers(state.removeAll());
        deadLetters.close();
        spool.close();
        return unspooled;
    }

    private static void join(SerialTask t) {
        if (!t.awaitIdle(5_000)) {
            LOG.warn("the {} did not end within 5 s; what it holds is spooled and may be written twice", t);
        }
        t.finish();
    }

    // --- gauges ----------------------------------------------------------------------------

    long queuedMessages() {
        return state.queuedMessages();
    }

    boolean waitingForBackend() {
        return !state.hasBackend();
    }

    CircuitBreaker.State breakerState() {
        return state.breaker().state();
    }

    long spoolMessages() {
        return spool.messages();
    }

    long spooledMessages() {
        return stats.spooledMessages();
    }

    /** The state for /health: see {@link BackendStatus.State}. */
    BackendStatus.State state() {
        if (!state.hasBackend()) {
            return BackendStatus.State.WAITING_FOR_BUNDLE;
        }
        CircuitBreaker.State b = state.breaker().state();
        if (b == CircuitBreaker.State.OPEN) {
            return BackendStatus.State.BREAKER_OPEN;
        }
        if (b == CircuitBreaker.State.HALF_OPEN || state.breaker().consecutiveFailures() > 0 || spool.messages() > 0) {
            return BackendStatus.State.DEGRADED;
        }
        return BackendStatus.State.UP;
    }

    /** The channel's series; {@code referenced}: an enabled route sends to it. */
    void collect(MetricsSink sink, boolean referenced) {
        // a channel no enabled route sends to any more and that holds nothing is not waiting
        boolean waiting = !state.hasBackend() && (referenced || state.queuedMessages() > 0 || spool.messages() > 0);
        stats.collect(sink, waiting, state());
    }

    /** The channel's line in /health; {@code kind} is {@code null} while no backend is bound. */
    BackendStatus status(String kind) {
        return stats.status(kind, state());
    }
}
