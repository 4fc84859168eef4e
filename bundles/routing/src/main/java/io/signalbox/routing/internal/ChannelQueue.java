package io.signalbox.routing.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.signalbox.api.Batch;

/**
 * The in-memory FIFO of one channel: batch parts with their completions, the head the writer has
 * reserved, and since when the queue is above {@code channel.queue.messages}.
 *
 * <p>The reserved head stays at the front until it is written or dead-lettered; the spooler
 * takes only batches behind it ({@link #chunk}). Not thread-safe: guarded by the channel's lock;
 * the message count is volatile for the gauges.
 */
final class ChannelQueue {
    /** A queued batch part. Identity matters: the same batch may be queued twice. */
    static final class Entry {
        final Batch batch;
        final Completion completion;

        Entry(Batch batch, Completion completion) {
            this.batch = batch;
            this.completion = completion;
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private Entry head;
    /** {@link System#nanoTime()} when the queue went above its bound; meaningful while {@link #over}. */
    private long overSince;
    private boolean over;
    private volatile long messages;

    /** Messages queued (the reserved head included). */
    long messages() {
        return messages;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Appends a batch part; notes the time if the queue went above {@code bound} messages. */
    /** Whether the queue went above its bound (and has not come back under it since). */
    boolean isOver() {
        return over;
    }

    void add(Batch batch, Completion completion, long bound) {
        entries.addLast(new Entry(batch, completion));
        messages += batch.size();
        if (!over && messages > bound) {
            over = true;
            overSince = System.nanoTime();
        }
    }

    /** The head the writer has reserved, or {@code null}. */
    Entry head() {
        return head;
    }

    /** Reserves the first entry for the writer (the queue must not be empty). */
    Entry reserveHead() {
        head = entries.peekFirst();
        return head;
    }

    /** Gives the reserved head back: the spooler may take it (first, in its place). */
    void releaseHead() {
        head = null;
    }

    /** The reserved head was written (or dead-lettered). */
    void removeWritten(Entry entry, long bound) {
        entries.removeFirstOccurrence(entry);
        head = null;
        messages -= entry.batch.size();
        over &= messages > bound;
    }

    /** Whether there are entries behind the reserved head. */
    boolean movable() {
        return entries.size() > (head == null ? 0 : 1);
    }

    /** Up to {@code max} entries from the front, the reserved head left out; they stay queued. */
    List<Entry> chunk(int max) {
        List<Entry> out = new ArrayList<>(Math.min(entries.size(), max));
        Iterator<Entry> it = entries.iterator();
        while (it.hasNext() && out.size() < max) {
            Entry e = it.next();
            if (e != head) {
                out.add(e);
            }
        }
        return out;
    }

    /** The first {@code done} of {@code spooled} are in the spool: they leave the queue. */
    void removeSpooled(List<Entry> spooled, int done, long bound) {
        long n = 0;
        for (int i = 0; i < done; i++) {
            entries.removeFirstOccurrence(spooled.get(i));
            n += spooled.get(i).batch.size();
        }
        messages -= n;
        over &= messages > bound;
    }

    /** Empties the queue (the reserved head included) and returns what it held, in order. */
    List<Entry> removeAll() {
        List<Entry> all = new ArrayList<>(entries);
        entries.clear();
        head = null;
        messages = 0;
        return all;
    }

    /** Whether the queue has been above {@code bound} for at least {@code spillAfterMillis}: its backlog goes to disk. */
    boolean overFor(long bound, long spillAfterMillis) {
        return over && messages > bound
                && System.nanoTime() - overSince >= TimeUnit.MILLISECONDS.toNanos(spillAfterMillis);
    }

    /** How long until {@link #overFor} may become true (at least 1 ns), or {@code Long.MAX_VALUE} while below the bound. */
    long nanosUntilSpill(long spillAfterMillis, long now) {
        return over ? Math.max(1, overSince + TimeUnit.MILLISECONDS.toNanos(spillAfterMillis) - now) : Long.MAX_VALUE;
    }
}
