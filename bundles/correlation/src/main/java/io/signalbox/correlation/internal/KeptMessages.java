package io.signalbox.correlation.internal;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import io.signalbox.api.Message;

/**
 * The messages of one span (or of a trace outside its spans) kept for queries: references to the
 * messages as received, in arrival order, up to a bound; what comes after it is only counted.
 * The array grows by doubling up to the bound, so a message costs no allocation of its own.
 * Not thread-safe: guarded by the owning {@link TraceEntry}'s monitor.
 */
final class KeptMessages {
    private static final Message[] EMPTY = new Message[0];
    private static final int FIRST_CAPACITY = 4;

    private Message[] items = EMPTY;
    private int size;
    private long cut;

    /** Keeps {@code m} if fewer than {@code max} are kept, else counts it as cut; whether it was kept. */
    boolean add(Message m, int max) {
        if (size >= max) {
            cut++;
            return false;
        }
        if (size == items.length) {
            items = Arrays.copyOf(items, Math.min(max, Math.max(FIRST_CAPACITY, size * 2)));
        }
        items[size++] = m;
        return true;
    }

    /** Counts a message that was not kept because another bound (the trace's) was reached. */
    void cut() {
        cut++;
    }

    int size() {
        return size;
    }

    long cutCount() {
        return cut;
    }

    /** An unmodifiable copy of the kept messages. */
    List<Message> snapshot() {
        return size == 0 ? List.of() : Collections.unmodifiableList(Arrays.asList(Arrays.copyOf(items, size)));
    }

    static List<Message> snapshot(KeptMessages kept) {
        return kept == null ? List.of() : kept.snapshot();
    }

    static long cutCount(KeptMessages kept) {
        return kept == null ? 0 : kept.cut;
    }
}
