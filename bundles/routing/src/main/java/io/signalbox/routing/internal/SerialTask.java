package io.signalbox.routing.internal;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job of a channel (its writer or its spooler) run on the shared {@link ChannelExecutor}
 * instead of a thread of its own: never two runs at once, and never a lost wake-up. A run does
 * what can be done now and returns instead of blocking; {@link #wake} (something changed) or a
 * timer ({@link #wakeAfter}: a backoff, a probe, an fsync interval) asks for the next run. A wake
 * during a run makes it run again right after, so the job always sees the latest state.
 */
final class SerialTask {
    private static final Logger LOG = LoggerFactory.getLogger(SerialTask.class);

    private enum State { IDLE, SCHEDULED, RUNNING, RUNNING_WOKEN }

    private final String name;
    private final Runnable body;
    private final ScheduledExecutorService executor;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    // guarded by lock
    private State state = State.IDLE;
    /** The pending timer: scheduled and not fired yet ({@code null} once it fired). */
    private ScheduledFuture<?> timer;
    private long timerAt;
    /** Identifies the latest timer, so that a replaced one firing late does not clear it. */
    private long timerSeq;
    private Thread runner;
    private boolean finished;

    /** @param body one run: does what can be done now, then returns (never waits for a change) */
    SerialTask(String name, ScheduledExecutorService executor, Runnable body) {
        this.name = name;
        this.executor = executor;
        this.body = body;
    }

    /** Asks for a run as soon as a worker is free (or right after the one in progress). */
    void wake() {
        lock.lock();
        try {
            switch (state) {
                case IDLE -> submit();
                case RUNNING -> state = State.RUNNING_WOKEN;
                default -> {
                    // already due to run
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Asks for a run in {@code nanos} at the latest (an earlier timer or wake-up stands). */
    void wakeAfter(long nanos) {
        lock.lock();
        try {
            if (finished) {
                return;
            }
            long at = System.nanoTime() + nanos;
            // a pending timer (one that has not fired: it clears itself when it does) that fires no
            // later stands, even if its time has come and a busy executor has not run it yet
            if (timer != null && timerAt - at <= 0) {
                return;
            }
            if (timer != null) {
                timer.cancel(false); // if it is firing right now, it only makes one extra run
            }
            timerAt = at;
            long seq = ++timerSeq;
            try {
                timer = executor.schedule(() -> fire(seq), nanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                timer = null;
                LOG.debug("{}: executor shut down, timer not set", name, e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A timer fired: it is no longer pending (unless a newer one replaced it), then a wake. */
    private void fire(long seq) {
        lock.lock();
        try {
            if (seq == timerSeq) {
                timer = null;
            }
        } finally {
            lock.unlock();
        }
        wake();
    }

    /** The job is over: it runs no more (a wake is ignored); cancels its timer. */
    void finish() {
        lock.lock();
        try {
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether the calling thread is running this job (e.g. a backend unbinding itself from inside its write). */
    boolean isRunningHere() {
        lock.lock();
        try {
            return runner == Thread.currentThread();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no run is in progress or due, up to {@code timeoutMillis}.
     *
     * @return {@code true} if none is
     */
    boolean awaitIdle(long timeoutMillis) {
        long remaining = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (state != State.IDLE && !(finished && state == State.SCHEDULED)) {
                if (remaining <= 0) {
                    return false;
                }
                remaining = idle.awaitNanos(remaining);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return state == State.IDLE;
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held. */
    private void submit() {
        if (finished) {
            return;
        }
        state = State.SCHEDULED;
        try {
            executor.execute(this::run);
        } catch (RejectedExecutionException e) {
            state = State.IDLE;
            idle.signalAll();
            LOG.debug("{}: executor shut down, run not submitted", name, e);
        }
    }

    private void run() {
        lock.lock();
        try {
            if (finished) {
                state = State.IDLE;
                idle.signalAll();
                return;
            }
            state = State.RUNNING;
            runner = Thread.currentThread();
        } finally {
            lock.unlock();
        }
        try {
            body.run();
        } catch (RuntimeException e) {
            LOG.error("{}: unexpected failure; it runs again at the next change", name, e);
        } finally {
            lock.lock();
            try {
                runner = null;
                if (state == State.RUNNING_WOKEN && !finished) {
                    submit();
                } else {
                    state = State.IDLE;
                    idle.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
