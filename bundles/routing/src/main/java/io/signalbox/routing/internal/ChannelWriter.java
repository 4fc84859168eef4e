package io.signalbox.routing.internal;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.AsyncBackend;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.LogLimiter;

/**
 * The writer job of one {@link Channel} (a {@link SerialTask}): writes what the channel hands it ({@link ChannelState#nextTurn})
 * to the bound backend, a queued batch or the oldest spooled one. A failed write is counted against
 * the breaker and retried after a {@link Backoff} delay; a batch the backend refuses as invalid
 * ({@link BatchRejectedException}) goes to the {@link DeadLetters} file instead; a replay after an
 * outage waits for its {@link ReplayThrottle}.
 *
 * <p>An asynchronous turn ({@link AsyncBackend#writeAsync}) is only started here: its completion,
 * on whatever thread the backend completes it, is put in {@link #finished} and wakes the job, which
 * reports it at its next run exactly as it reports a synchronous write (counted, dead-lettered,
 * retried). No thread waits for an acknowledgement.
 *
 * <p>Everything here runs outside the channel's lock: the backend, the spool and the dead-letter
 * file are used here, every decision about what comes next is the channel's.
 */
final class ChannelWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelWriter.class);
    private static final int PROBE_LOG_SECONDS = 60;
    /** Batches written per run before the worker is yielded to other channels. */
    private static final int QUANTUM = 64;

    private final ChannelState channel;
    private final ChannelSpool spool;
    private final DeadLetters deadLetters;
    private final ChannelStats stats;
    private final Backoff backoff = Backoff.jittered();
    private final ReplayThrottle throttle = new ReplayThrottle(System::nanoTime);
    private final LogLimiter failureLog = new LogLimiter();
    private final LogLimiter probeLog = new LogLimiter(PROBE_LOG_SECONDS, TimeUnit.SECONDS);
    /** Asynchronous writes that completed, not reported yet. */
    private final ConcurrentLinkedQueue<Finished> finished = new ConcurrentLinkedQueue<>();

    /** The outcome of an asynchronous write: {@code failure} is {@code null} if the backend accepted the batch. */
    private record Finished(ChannelState.Turn turn, long startedNanos, Throwable failure) {
    }

    ChannelWriter(ChannelState channel, ChannelSpool spool, DeadLetters deadLetters, ChannelStats stats) {
        this.channel = channel;
        this.spool = spool;
        this.deadLetters = deadLetters;
        this.stats = stats;
    }

    /**
     * One run of the writer job: writes turn after turn until there is nothing to do now (the
     * channel says how long to park) or {@link #QUANTUM} batches are written (then it yields the
     * worker to the other channels and runs again at once).
     */
    @Override
    public void run() {
        for (int i = 0; i < QUANTUM; i++) {
            if (!reportFinished()) {
                channel.writerDone(); // stopped meanwhile: what the channel held is spooled by stop
                return;
            }
            ChannelState.Step step = channel.nextTurn();
            if (step instanceof ChannelState.Park park) {
                if (park.nanos() >= 0) {
                    channel.writerTask().wakeAfter(park.nanos());
                }
                return;
            }
            if (!(step instanceof ChannelState.Turn turn)) {
                channel.writerDone();
                return;
            }
            if (turn.async()) {
                start(turn);
                continue;
            }
            Spool.Record record = null;
            Batch batch;
            if (turn.entry() != null) {
                batch = turn.entry().batch;
            } else {
                record = spool.peek();
                long wait = record == null ? -1 : replayWait(record.batch());
                if (wait != 0) {
                    channel.notWriting(wait);
                    continue;
                }
                batch = record.batch();
            }

            long started = System.nanoTime();
            Throwable thrown = null;
            try {
                turn.backend().write(batch);
            } catch (Exception | LinkageError e) {
                // LinkageError: the backend's bundle was updated or uninstalled under us; retried with the next one
                thrown = e;
            }
            if (!report(turn, record, batch, started, thrown)) {
                channel.writerDone(); // stopped meanwhile: what the channel held is spooled by stop
                return;
            }
        }
        channel.writerTask().wake(); // quantum spent: the other channels' jobs queued meanwhile go first
    }

    /** Starts an asynchronous write; its completion is reported by a later run ({@link #reportFinished}). */
    private void start(ChannelState.Turn turn) {
        long started = System.nanoTime();
        CompletionStage<Void> stage;
        try {
            stage = ((AsyncBackend) turn.backend()).writeAsync(turn.entry().batch);
            if (stage == null) {
                stage = CompletableFuture.failedFuture(new IllegalStateException("writeAsync returned no stage"));
            }
        } catch (Exception | LinkageError e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((ignored, e) -> {
            // on the backend's thread: note the outcome and wake the job, nothing more
            finished.add(new Finished(turn, started, e == null ? null : unwrap(e)));
            channel.writerTask().wake();
        });
    }

    /**
     * Reports the asynchronous writes that completed since the last run.
     *
     * @return {@code false} if the channel was stopped meanwhile
     */
    private boolean reportFinished() {
        Finished f;
        while ((f = finished.poll()) != null) {
            if (!report(f.turn(), null, f.turn().entry().batch, f.startedNanos(), f.failure())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reports the outcome of one write ({@code thrown}: {@code null} if the backend accepted the
     * batch): counted, dead-lettered, or retried later.
     *
     * @param record the spool record replayed, or {@code null} for a queued batch
     * @return {@code false} if the channel was stopped meanwhile
     */
    private boolean report(ChannelState.Turn turn, Spool.Record record, Batch batch, long startedNanos,
            Throwable thrown) {
        Throwable failure = outcome(batch, startedNanos, thrown);
        if (failure == null) {
            backoff.succeeded();
            if (!channel.written(turn)) {
                return false;
            }
            if (turn.entry() != null) {
                turn.entry().completion.partDone();
            } else {
                spool.advance(record);
                stats.replayed(batch.size());
            }
        } else {
            stats.writeFailed();
            RoutingSettings s = channel.settings();
            long delay = backoff.failed(s.retryInitialMillis(), s.retryMaxMillis());
            CircuitBreaker.Trip trip = channel.failed(turn);
            log(trip, turn, batch, delay, failure, s);
            if (trip == CircuitBreaker.Trip.NONE) {
                channel.backOff(turn.backend(), delay); // (open: the channel waits for the probe time)
            }
        }
        return true;
    }

    /** The cause a {@link CompletionStage} failed with. */
    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** 0 if {@code batch} may be replayed now, else how long to wait first (ns). */
    private long replayWait(Batch batch) {
        long rate = channel.settings().replayRate();
        return rate > 0 && channel.recovering() ? throttle.acquire(batch.size(), rate) : 0;
    }

    /**
     * Counts a written batch, or dead-letters it if the backend refused it as invalid.
     *
     * @param thrown what the write threw (or its stage failed with), {@code null} if it succeeded
     * @return the failure, or {@code null} if the batch is written or dead-lettered
     */
    private Throwable outcome(Batch batch, long startedNanos, Throwable thrown) {
        if (thrown == null) {
            stats.written(batch.size(), System.nanoTime() - startedNanos, batch.receivedNanos());
            return null;
        }
        if (thrown instanceof BatchRejectedException rejected) {
            try {
                deadLetters.write(batch, rejected.getMessage());
                stats.deadLettered(batch.size());
                return null;
            } catch (IOException e) {
                e.addSuppressed(rejected);
                return e; // kept and retried: never dropped because the dead-letter file failed
            }
        }
        return thrown;
    }

    private void log(CircuitBreaker.Trip trip, ChannelState.Turn turn, Batch batch, long delay, Throwable failure,
            RoutingSettings s) {
        String name = channel.name();
        switch (trip) {
            case OPENED -> LOG.warn("backend {}: circuit breaker open after {}; batches for it go to its spool, next "
                    + "probe in {} ms; last failure: {}", name, channel.breaker().reason(), s.breakerOpenMillis(),
                    failure.toString());
            case PROBE_FAILED -> {
                long suppressed = probeLog.permit(1);
                if (suppressed >= 0) {
                    LOG.warn("backend {}: circuit breaker stays open, the probe failed ({} more failed probes not logged "
                            + "in the last {} s); next probe in about {} ms: {}", name, suppressed, PROBE_LOG_SECONDS,
                            s.breakerOpenMillis(), failure.toString());
                }
            }
            case NONE -> {
                long suppressed = failureLog.permit(1);
                if (suppressed >= 0) {
                    LOG.warn("backend {}: writing a batch of {} messages{} failed (attempt {}), retrying in {} ms "
                            + "({} more failures not logged in the last {} s): {}", name, batch.size(),
                            turn.entry() == null ? " from the spool" : "", backoff.attempts(), delay, suppressed,
                            LogLimiter.DEFAULT_INTERVAL_SECONDS, failure.toString(), failure);
                }
            }
        }
    }
}
