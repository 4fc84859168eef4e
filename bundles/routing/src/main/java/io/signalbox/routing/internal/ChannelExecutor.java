package io.signalbox.routing.internal;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker threads every channel's writer and spooler run on ({@link SerialTask}s): a fixed
 * number ({@code channel.threads}) however many backends are configured, so that a route naming
 * ten thousand backends costs no thread of its own. At most that many backend writes and spool
 * appends run at once; a channel's own writes stay in order (one at a time).
 */
final class ChannelExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelExecutor.class);

    private final ScheduledThreadPoolExecutor pool;

    ChannelExecutor(int threads) {
        AtomicInteger n = new AtomicInteger();
        pool = new ScheduledThreadPoolExecutor(threads, r -> {
            Thread t = new Thread(r, "signalbox-channel-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.setRemoveOnCancelPolicy(true);
        pool.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    ScheduledExecutorService executor() {
        return pool;
    }

    /** Threads started so far (at most {@code channel.threads}). */
    int threads() {
        return pool.getPoolSize();
    }

    /** After every channel stopped: ends the workers (a write still stuck in a backend is left behind). */
    void shutdown() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
                // not interrupted: the write may be inside a backend that closes its files on an interrupt
                LOG.warn("channel workers did not end within 5 s (a backend write is still running); left behind");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
