package io.signalbox.correlation.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.RateLimitedLog;

/**
 * The one scheduler thread that runs correlation's tick with a fixed delay. A tick that throws
 * is logged (rate-limited) and the next one runs: an exception would otherwise cancel the schedule.
 */
final class Ticker {
    private static final Logger LOG = LoggerFactory.getLogger(Ticker.class);

    private final Runnable tick;
    private final RateLimitedLog problems;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "signalbox-correlation-tick");
        t.setDaemon(true);
        return t;
    });
    /** Guarded by {@code this}. */
    private ScheduledFuture<?> task;
    private long periodMillis;

    Ticker(Runnable tick, RateLimitedLog problems) {
        this.tick = tick;
        this.problems = problems;
    }

    /** Ticks every {@code millis} from now on (no change if that is the period already). */
    synchronized void every(long millis) {
        if (task != null) {
            if (millis == periodMillis) {
                return;
            }
            task.cancel(false);
        }
        periodMillis = millis;
        task = scheduler.scheduleWithFixedDelay(this::tickSafely, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Stops ticking; waits up to 5 s for a tick that is running. */
    void stop() {
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Correlation tick did not finish within 5 s of shutdown");
            }
        } catch (InterruptedException e) {
            LOG.warn("Interrupted while waiting for the correlation tick to finish", e);
            Thread.currentThread().interrupt();
        }
    }

    private void tickSafely() {
        try {
            tick.run();
        } catch (RuntimeException e) {
            problems.error("tick", "Correlation tick failed", e);
        }
    }
}
