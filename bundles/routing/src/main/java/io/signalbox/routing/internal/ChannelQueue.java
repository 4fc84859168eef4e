package io.signalbox.routing.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.signalbox.api.Batch;

/**
 * The in-memory FIFO of one channel: batch parts with their completions, the entries the writer has
 * reserved, and since when the queue is above {@code channel.queue.messages}.
 *
 * <p>The writer reserves entries from the front (one at a time, or up to {@code max.in.flight}
 * for an asynchronous backend); a reserved entry stays in the queue until it is written or
 * dead-lettered, and the spooler takes only entries that are not reserved ({@link #chunk}). Not
 * thread-safe: guarded by the channel's lock; the message count is volatile for the gauges.
 */
final class ChannelQueue {
    /** A queued batch part. Identity matters: the same batch may be queued twice. */
    static final class Entry {
        final Batch batch;
        final Completion completion;
        /** Taken by the writer (being written, or waiting for its retry). */
        private boolean reserved;

        Entry(Batch batch, Completion completion) {
            this.batch = batch;
            this.completion = completion;
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private int reserved;
    /** {@link System#nanoTime()} when the queue went above its bound; meaningful while {@link #over}. */
    private long overSince;
    private boolean over;
    private volatile long messages;

    /** Messages queued (the reserved entries included). */
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

    /** Entries the writer has reserved. */
    int reserved() {
        return reserved;
    }

    /** Reserves the first entry not reserved yet for the writer (there must be one: {@link #movable}). */
    Entry reserveNext() {
        if (reserved == 0) { // the usual case (one write at a time): the head, without an iterator
            Entry head = entries.peekFirst();
            if (head != null) {
                head.reserved = true;
                reserved++;
                return head;
            }
        }
        // the reserved entries are at most max.in.flight, near the front: a short walk
        for (Entry e : entries) {
            if (!e.reserved) {
                e.reserved = true;
                reserved++;
                return e;
            }
        }
        throw new IllegalStateException("every queued entry is reserved");
    }

    /** Gives a reserved entry back: the spooler may take it (in its place in the queue). */
    void release(Entry entry) {
        if (entry.reserved) {
            entry.reserved = false;
            reserved--;
        }
    }

    /** A reserved entry was written (or dead-lettered). */
    void removeWritten(Entry entry, long bound) {
        if (entries.removeFirstOccurrence(entry)) {
            release(entry);
            messages -= entry.batch.size();
            over &= messages > bound;
        }
    }

    /** Whether there are entries not reserved by the writer. */
    boolean movable() {
        return entries.size() > reserved;
    }

    /** Up to {@code max} entries from the front, the reserved ones left out; they stay queued. */
    List<Entry> chunk(int max) {
        List<Entry> out = new ArrayList<>(Math.min(entries.size(), max));
        Iterator<Entry> it = entries.iterator();
        while (it.hasNext() && out.size() < max) {
            Entry e = it.next();
            if (!e.reserved) {
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

    /** Empties the queue (the reserved entries included) and returns what it held, in order. */
    List<Entry> removeAll() {
        List<Entry> all = new ArrayList<>(entries);
        for (Entry e : all) {
            e.reserved = false;
        }
        entries.clear();
        reserved = 0;
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
