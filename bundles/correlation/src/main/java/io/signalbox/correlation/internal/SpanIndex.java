package io.signalbox.correlation.internal;

/**
 * Span slots of one trace by span id: an open-addressing table (linear probing) of the slots
 * themselves, so indexing a span allocates nothing but the occasional doubling of the table.
 * The first slot of a span id wins; slots are never removed (a trace lives and dies whole).
 * Not thread-safe: guarded by the owning {@link TraceEntry}'s monitor.
 */
final class SpanIndex {
    private SpanSlot[] table = new SpanSlot[8];
    private int size;

    SpanSlot get(String spanId) {
        SpanSlot[] t = table;
        int mask = t.length - 1;
        for (int i = spread(spanId.hashCode()) & mask;; i = (i + 1) & mask) {
            SpanSlot s = t[i];
            if (s == null) {
                return null;
            }
            if (s.spanId.equals(spanId)) {
                return s;
            }
        }
    }

    /** Adds {@code slot} (whose span id must not be indexed yet). */
    void add(SpanSlot slot) {
        if ((size + 1) * 2 > table.length) {
            grow();
        }
        insert(table, slot);
        size++;
    }

    int size() {
        return size;
    }

    private void grow() {
        SpanSlot[] bigger = new SpanSlot[table.length * 2];
        for (SpanSlot s : table) {
            if (s != null) {
                insert(bigger, s);
            }
        }
        table = bigger;
    }

    private static void insert(SpanSlot[] t, SpanSlot slot) {
        int mask = t.length - 1;
        int i = spread(slot.spanId.hashCode()) & mask;
        while (t[i] != null) {
            i = (i + 1) & mask;
        }
        t[i] = slot;
    }

    private static int spread(int h) {
        return (h ^ (h >>> 16)) * 0x9E3779B9;
    }
}
