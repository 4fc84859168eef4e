package io.signalbox.routing.internal;

import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.LogLimiter;

/**
 * Runs a batch's {@code delivered} callback exactly once, when the last of the channels the
 * batch was split over has written its part.
 */
final class Completion {
    private static final Logger LOG = LoggerFactory.getLogger(Completion.class);
    private static final LogLimiter CALLBACK_FAILURES = new LogLimiter();

    private final AtomicInteger remaining;
    private final Runnable delivered;

    Completion(int parts, Runnable delivered) {
        this.remaining = new AtomicInteger(parts);
        this.delivered = delivered;
    }

    /** One part is written; the callback runs when it was the last one. */
    void partDone() {
        if (remaining.decrementAndGet() == 0) {
            run(delivered);
        }
    }

    /** Runs a delivered callback, never letting its failure escape into the caller. */
    static void run(Runnable delivered) {
        if (delivered == null) {
            return;
        }
        try {
            delivered.run();
        } catch (RuntimeException e) {
            long suppressed = CALLBACK_FAILURES.permit(1);
            if (suppressed >= 0) {
                LOG.warn("a delivered callback failed ({} more failures not logged in the last {} s)",
                        suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS, e);
            }
        }
    }
}
