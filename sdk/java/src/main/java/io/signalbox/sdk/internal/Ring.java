package io.signalbox.sdk.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded multi-producer, single-consumer ring of encoded lines. Producers never block and
 * never take a lock: {@link #offer} claims a sequence number with one CAS on {@code tail} and
 * publishes the line into its slot, or refuses when {@code bound} lines are already held.
 *
 * <p>The consumer (the writer thread, and only it) reads without removing: {@link #peek}
 * returns the {@code i}-th held line, or {@code null} when that slot is not published yet. A
 * line stays in the ring, and so keeps counting against the bound, until the consumer
 * {@link #release}s it after it was written to the socket; a failed write leaves the lines in
 * place to be replayed, in order, on the next connection.
 */
public final class Ring {
    private final int bound;
    private final int mask;
    private final AtomicReferenceArray<String> slots;
    private final AtomicLong tail = new AtomicLong();
    /** Written by the consumer only. */
    private volatile long head;

    public Ring(int bound) {
        if (bound < 1) {
            throw new IllegalArgumentException("bound must be at least 1: " + bound);
        }
        this.bound = bound;
        int size = Integer.highestOneBit(Math.max(1, bound - 1)) << 1;
        this.mask = size - 1;
        this.slots = new AtomicReferenceArray<>(size);
    }

    public int bound() {
        return bound;
    }

    /**
     * Appends {@code line}: returns how many lines the ring holds with it (1 … bound), or 0 when
     * the ring already holds {@code bound} lines (nothing changed).
     */
    public int offer(String line) {
        AtomicLong t = tail;
        while (true) {
            long seq = t.get();
            long held = seq - head;
            if (held >= bound) {
                return 0;
            }
            if (t.compareAndSet(seq, seq + 1)) {
                slots.set((int) seq & mask, line);
                return (int) held + 1;
            }
        }
    }

    /** Consumer only: the {@code i}-th line from the head, or {@code null} if not (yet) there. */
    public String peek(int i) {
        long seq = head + i;
        if (seq >= tail.get()) {
            return null;
        }
        return slots.get((int) seq & mask);
    }

    /** Consumer only: frees the first {@code n} lines (all of them previously peeked). */
    public void release(int n) {
        long h = head;
        for (int i = 0; i < n; i++) {
            slots.set((int) (h + i) & mask, null);
        }
        head = h + n;
    }

    /** How many lines are held (claimed slots included); exact for the consumer, a snapshot for others. */
    public int size() {
        return (int) Math.max(0, Math.min(bound, tail.get() - head));
    }

    public boolean isEmpty() {
        return tail.get() == head;
    }
}
