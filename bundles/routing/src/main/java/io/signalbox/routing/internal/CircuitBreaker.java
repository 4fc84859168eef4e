package io.signalbox.routing.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

/**
 * The circuit breaker of one channel.
 *
 * <p>{@link State#CLOSED}: writes go to the backend. {@code breaker.failures} failed writes in a
 * row, or at least {@code breaker.error.rate} of the last {@code breaker.window} writes failing,
 * open it. {@link State#OPEN}: nothing is written (the channel spools) until
 * {@code breaker.open.ms} (jittered) have passed; then the next write is the probe
 * ({@link State#HALF_OPEN}): its success closes the breaker, its failure opens it again.
 *
 * <p>Not thread-safe: guarded by the channel's lock. {@link #state()},
 * {@link #consecutiveFailures()} and {@link #openedCount()} may be read from any thread (gauges).
 */
final class CircuitBreaker {
    /** The states; the ordinal is the value of the {@code signalbox_backend_breaker_state} gauge. */
    enum State {
        CLOSED, HALF_OPEN, OPEN
    }

    /** What a failed write did to the breaker. */
    enum Trip {
        /** Nothing: still closed, or already open. */
        NONE,
        /** Closed → open; {@link #reason()} says why. */
        OPENED,
        /** The probe failed: half-open → open again. */
        PROBE_FAILED
    }

    private final LongSupplier nanoClock;
    private final LongUnaryOperator jitter;
    private final LongAdder opened = new LongAdder();
    private volatile State state = State.CLOSED;
    private volatile int consecutiveFailures;
    private long openUntil;
    /** Outcomes of the writes since the breaker closed, newest in bit 0 (1 = failed). */
    private long outcomes;
    private int outcomeCount;
    private String reason;

    /**
     * @param nanoClock {@link System#nanoTime()}, or a test's clock
     * @param jitter    randomises the open time, in ms ({@link Backoff#jitter})
     */
    CircuitBreaker(LongSupplier nanoClock, LongUnaryOperator jitter) {
        this.nanoClock = nanoClock;
        this.jitter = jitter;
    }

    State state() {
        return state;
    }

    /** Failed writes in a row. */
    int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Times it went from closed to open. */
    long openedCount() {
        return opened.sum();
    }

    /** Why it opened last: "5 consecutive failed writes", "10 of the last 20 writes failed". */
    String reason() {
        return reason;
    }

    /** Whether writes are held back now: open, and the probe is not due yet. */
    boolean isOpen() {
        return state == State.OPEN && nanoClock.getAsLong() - openUntil < 0;
    }

    /** While {@link #isOpen()}: how long until the probe is due, in ns. */
    long nanosUntilProbe() {
        return openUntil - nanoClock.getAsLong();
    }

    /**
     * A write begins (never while {@link #isOpen()}).
     *
     * @return whether it is the probe (the breaker is half-open now)
     */
    boolean beginWrite() {
        if (state == State.OPEN) {
            state = State.HALF_OPEN;
            return true;
        }
        return false;
    }

    /**
     * A write succeeded.
     *
     * @return whether that closed the breaker (it was the probe)
     */
    boolean succeeded() {
        boolean closes = state != State.CLOSED;
        if (closes) {
            reset();
        }
        consecutiveFailures = 0;
        outcomes <<= 1;
        outcomeCount++;
        return closes;
    }

    /** A write failed; counted against {@code s}'s thresholds. */
    Trip failed(RoutingSettings s) {
        int consecutive = consecutiveFailures + 1;
        consecutiveFailures = consecutive;
        outcomes = (outcomes << 1) | 1;
        outcomeCount++;
        State before = state;
        boolean trips = consecutive >= s.breakerFailures() || failedRate(s) >= 0;
        if (before == State.HALF_OPEN || (before == State.CLOSED && trips)) {
            openUntil = nanoClock.getAsLong() + TimeUnit.MILLISECONDS.toNanos(jitter.applyAsLong(s.breakerOpenMillis()));
            state = State.OPEN;
            if (before == State.HALF_OPEN) {
                return Trip.PROBE_FAILED;
            }
            opened.increment();
            reason = consecutive >= s.breakerFailures() ? consecutive + " consecutive failed writes"
                    : failedRate(s) + " of the last " + s.breakerWindow() + " writes failed";
            return Trip.OPENED;
        }
        return Trip.NONE;
    }

    /**
     * Failed writes among the last {@code breaker.window} if they reach {@code breaker.error.rate},
     * else -1 (also while fewer writes than the window were seen, or the rate is 0).
     */
    private int failedRate(RoutingSettings s) {
        int window = s.breakerWindow();
        if (s.breakerErrorRate() <= 0 || outcomeCount < window) {
            return -1;
        }
        int failed = Long.bitCount(window == 64 ? outcomes : outcomes & ((1L << window) - 1));
        return failed >= s.breakerErrorRate() * window ? failed : -1;
    }

    /** Closed, with no history: a new backend was bound, or the probe succeeded. */
    void reset() {
        state = State.CLOSED;
        consecutiveFailures = 0;
        outcomes = 0;
        outcomeCount = 0;
    }
}
