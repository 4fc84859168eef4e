package io.signalbox.routing.internal;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spooler job of one {@link Channel} (a {@link SerialTask}): appends the batches the channel says belong on disk
 * ({@link ChannelState#nextChunk}) to its spool, in order, then lets the channel drop them from memory
 * and runs their callbacks; between chunks it forces the spool when {@code spool.fsync=interval}
 * says so. Runs outside the channel's lock.
 */
final class ChannelSpooler implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelSpooler.class);
    /** Chunks appended per run before the worker is yielded to other channels. */
    private static final int QUANTUM = 16;

    private final ChannelState channel;
    private final ChannelSpool spool;
    private final ChannelStats stats;

    ChannelSpooler(ChannelState channel, ChannelSpool spool, ChannelStats stats) {
        this.channel = channel;
        this.spool = spool;
        this.stats = stats;
    }

    /** One run of the spooler job: appends chunk after chunk while batches belong on disk, then parks. */
    @Override
    public void run() {
        for (int i = 0; i < QUANTUM; i++) {
            ChannelState.Step step = channel.nextChunk();
            if (step instanceof ChannelState.Chunk c) {
                List<ChannelQueue.Entry> chunk = c.entries();
                // on a failure the rest stay queued (in memory) and the spool is tried again a second later
                int done = spool.append(chunk, channel.queuedMessages());
                channel.spooled(chunk, done);
                complete(chunk, done);
                spool.forceIfDue();
            } else if (step instanceof ChannelState.Park park) {
                spool.forceIfDue();
                if (park.nanos() >= 0) {
                    channel.spoolerTask().wakeAfter(park.nanos());
                }
                return;
            } else {
                channel.spoolerTask().finish();
                return;
            }
        }
        channel.spoolerTask().wake(); // quantum spent: yield the worker
    }

    /**
     * At {@link Channel#stop}, with both jobs ended: appends what is left in memory to the
     * spool and runs the callbacks of what is in it.
     *
     * @return the messages that could not be spooled (no spool, or it failed)
     */
    long spoolLeftovers(List<ChannelQueue.Entry> left) {
        long messages = 0;
        for (ChannelQueue.Entry e : left) {
            messages += e.batch.size();
        }
        if (left.isEmpty()) {
            return 0;
        }
        long spooled = complete(left, spool.append(left, messages));
        long unspooled = messages - spooled;
        if (spooled > 0) {
            LOG.info("backend {}: {} messages still queued at shutdown went to its spool (replayed at the next start)",
                    channel.name(), spooled);
        }
        if (unspooled > 0) {
            LOG.error("backend {}: {} messages queued at shutdown could not be spooled and are lost",
                    channel.name(), unspooled);
        }
        return unspooled;
    }

    /** Counts the first {@code done} entries as spooled and runs their callbacks; returns their messages. */
    private long complete(List<ChannelQueue.Entry> entries, int done) {
        long messages = 0;
        for (int i = 0; i < done; i++) {
            messages += entries.get(i).batch.size();
        }
        stats.spooled(messages);
        for (int i = 0; i < done; i++) {
            entries.get(i).completion.partDone();
        }
        return messages;
    }
}
