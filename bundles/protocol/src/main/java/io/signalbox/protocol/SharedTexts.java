package io.signalbox.protocol;

import java.util.Arrays;

/**
 * A bounded, process-wide table from the raw bytes of a JSON string (between its quotes, escapes
 * and all) to its text, so that the messages of one source (or the spans of one name) share one
 * {@code String} instead of each carrying a copy. With thousands of sources sent round-robin a
 * connection's "last {@code src}" ({@link ShortFormScan}) rarely matches, and every message in
 * flight (and every span the trace store keeps) held its own 50–60 bytes of source name.
 *
 * <p>The text of a string is a function of its raw bytes, so an entry is never wrong, only
 * possibly evicted: the table has a fixed number of slots (a power of two); a text is looked up
 * in two neighbouring slots and a new one takes the first free of them, else the first. Misses
 * cost what they cost before (the text is made) plus one store. Only strings of at most
 * {@link #MAX_BYTES} raw bytes are kept, so the table holds at most {@code slots × ~(2 × 256 + 64)}
 * bytes, in practice ~100 bytes per slot for names of ~10–20 bytes.
 *
 * <p>Thread-safe without locks: the slots are read and written plainly, and an {@link Entry} is
 * immutable (final fields), so a reader sees {@code null}, an older entry or a complete newer one.
 * A lost race costs one more miss, never a wrong text.
 */
final class SharedTexts {
    /** The longest raw string (bytes between the quotes) that is kept. */
    static final int MAX_BYTES = 256;

    /** Source names ({@code src}): 16,384 slots, ~2 MiB at most. */
    static final SharedTexts SOURCES = new SharedTexts(1 << 14);
    /** Span names: 4,096 slots. */
    static final SharedTexts SPAN_NAMES = new SharedTexts(1 << 12);

    /** One raw string and its text. */
    static final class Entry {
        final byte[] raw;
        final String text;
        final int hash;

        Entry(byte[] raw, String text, int hash) {
            this.raw = raw;
            this.text = text;
            this.hash = hash;
        }
    }

    private final Entry[] slots;
    private final int mask;

    SharedTexts(int slots) {
        if (slots < 2 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two >= 2: " + slots);
        }
        this.slots = new Entry[slots];
        this.mask = slots - 1;
    }

    /** The hash of {@code b[from, to)} that {@link #get} and {@link #put} take. */
    static int hash(byte[] b, int from, int to) {
        int h = 1;
        for (int i = from; i < to; i++) {
            h = 31 * h + b[i];
        }
        return h;
    }

    /** The entry of raw bytes {@code b[from, to)} (whose {@link #hash} is {@code hash}), or {@code null}. */
    Entry get(byte[] b, int from, int to, int hash) {
        int i = index(hash);
        Entry e = slots[i];
        if (e != null && matches(e, b, from, to, hash)) {
            return e;
        }
        e = slots[(i + 1) & mask];
        return e != null && matches(e, b, from, to, hash) ? e : null;
    }

    /**
     * Keeps {@code text} as the text of raw bytes {@code b[from, to)} and returns the entry (the
     * raw bytes copied). Not kept (a new entry returned all the same) if longer than {@link #MAX_BYTES}.
     */
    Entry put(byte[] b, int from, int to, int hash, String text) {
        Entry e = new Entry(Arrays.copyOfRange(b, from, to), text, hash);
        if (to - from <= MAX_BYTES) {
            int i = index(hash);
            if (slots[i] != null && slots[(i + 1) & mask] == null) {
                i = (i + 1) & mask;
            }
            slots[i] = e;
        }
        return e;
    }

    /** Entries held now (for tests and diagnostics; counts racy reads). */
    int size() {
        int n = 0;
        for (Entry e : slots) {
            if (e != null) {
                n++;
            }
        }
        return n;
    }

    private int index(int hash) {
        return (hash ^ (hash >>> 16)) * 0x9E3779B9 >>> 7 & mask;
    }

    private static boolean matches(Entry e, byte[] b, int from, int to, int hash) {
        return e.hash == hash && e.raw.length == to - from && Arrays.equals(e.raw, 0, e.raw.length, b, from, to);
    }
}
