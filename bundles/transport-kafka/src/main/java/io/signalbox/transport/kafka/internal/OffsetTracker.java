package io.signalbox.transport.kafka.internal;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets of which partitions may be committed: every record read gets a {@link Pending}, in
 * offset order per partition; the pipeline marks it done when the message was written or spooled
 * ({@code Ingest.offer(Message, Runnable)}), a dropped line is done at once. The offset committed for
 * a partition is the one after the longest run of done records from the head, so a committed offset
 * never passes a message that is still in flight, whatever order the batches are delivered in.
 *
 * <p>Used by the consumer thread only, except {@link Pending#run()} (any pipeline thread) and
 * {@link #uncommitted()} (metrics).
 */
final class OffsetTracker {
    /** One record read; runs once when its message was delivered. */
    static final class Pending implements Runnable {
        final long offset;
        volatile boolean done;

        Pending(long offset, boolean done) {
            this.offset = offset;
            this.done = done;
        }

        @Override
        public void run() {
            done = true;
        }
    }

    private static final class Partition {
        final ArrayDeque<Pending> pending = new ArrayDeque<>();
        /** The offset to commit (after the done head), -1 before any. */
        long next = -1;
        /** The offset last committed successfully, -1 before any. */
        long committed = -1;
        /** Records popped as done and not yet covered by a successful commit. */
        int popped;
    }

    /** Offsets to commit and how many records each partition's offset covers. */
    record Commit(Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, Integer> counts) {
        boolean isEmpty() {
            return offsets.isEmpty();
        }
    }

    private final Map<TopicPartition, Partition> partitions = new HashMap<>();
    private final AtomicLong uncommitted = new AtomicLong();

    /** A record read at {@code offset}; {@code done} for one that carries no message (dropped). */
    Pending add(TopicPartition tp, long offset, boolean done) {
        Pending p = new Pending(offset, done);
        partitions.computeIfAbsent(tp, k -> new Partition()).pending.addLast(p);
        uncommitted.incrementAndGet();
        return p;
    }

    /** What can be committed now: for every partition whose done head moved past its last commit. */
    Commit due() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Integer> counts = new HashMap<>();
        partitions.forEach((tp, p) -> {
            Pending head;
            while ((head = p.pending.peekFirst()) != null && head.done) {
                p.pending.pollFirst();
                p.next = head.offset + 1;
                p.popped++;
            }
            if (p.next > p.committed) {
                offsets.put(tp, new OffsetAndMetadata(p.next));
                counts.put(tp, p.popped);
            }
        });
        return new Commit(offsets, counts);
    }

    /** Kafka accepted {@code commit}. (After a failed one nothing is done: the next {@link #due} repeats it.) */
    void succeeded(Commit commit) {
        commit.offsets().forEach((tp, o) -> {
            Partition p = partitions.get(tp);
            if (p == null) {
                return; // revoked meanwhile
            }
            p.committed = Math.max(p.committed, o.offset());
            int n = commit.counts().get(tp);
            p.popped -= n;
            uncommitted.addAndGet(-n);
        });
    }

    /** Partitions no longer ours: what was read from them and not committed is the new owner's to read again. */
    void revoked(Collection<TopicPartition> tps) {
        for (TopicPartition tp : tps) {
            Partition p = partitions.remove(tp);
            if (p != null) {
                uncommitted.addAndGet(-(p.pending.size() + p.popped));
            }
        }
    }

    /** Records read and not yet covered by a successful commit. */
    long uncommitted() {
        return uncommitted.get();
    }

    /** Whether every record read has been delivered (or dropped). */
    boolean allDone() {
        for (Partition p : partitions.values()) {
            for (Pending x : p.pending) {
                if (!x.done) {
                    return false;
                }
            }
        }
        return true;
    }
}
