package io.signalbox.metrics.store.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Interns series by the raw bytes of a scanned metric line: source + the name's bytes + the tags
 * object's bytes as they stand in the line. A hit costs a hash over those bytes and one comparison, no
 * String and no map of tags per point. The bytes are a deterministic spelling of the series (the same
 * bytes always decode to the same name and tags), so a hit is exact; a series written with other
 * bytes (tags in another order, other spaces) simply has a second entry that points to the same
 * {@link Series}, found on the miss through the canonical key. An entry may also hold
 * {@link #FILTERED}: the name is excluded by the {@code names} globs.
 *
 * <p>Bounded: at {@code maxEntries} entries the table is cleared and fills again. Not thread-safe
 * (used under the store's lock).
 */
final class SeriesCache {
    /** The verdict "not stored: excluded by the names globs". */
    static final Series FILTERED = Series.of(-1, "", "", new java.util.TreeMap<>(), null);

    private static final class Entry {
        final int hash;
        final String source;
        final byte[] bytes; // name bytes then tags bytes
        final int nameLen;
        final Series series;
        final Entry next;

        Entry(int hash, String source, byte[] bytes, int nameLen, Series series, Entry next) {
            this.hash = hash;
            this.source = source;
            this.bytes = bytes;
            this.nameLen = nameLen;
            this.series = series;
            this.next = next;
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int maxEntries;
    private Entry[] table = new Entry[1024];
    private int size;
    long hits;
    long misses;

    SeriesCache(int maxEntries) {
        this.maxEntries = Math.max(16, maxEntries);
    }

    /** The hash of a series' bytes (see {@link #get}). */
    static int hash(String source, byte[] line, int nameOff, int nameLen, int tagsOff, int tagsLen) {
        int h = source.hashCode() * 0x9E3779B1;
        h = mix(h, line, nameOff, nameLen);
        h = mix(h * 31 + 0x5bd1e995, line, tagsOff, tagsLen);
        return h ^ (h >>> 16);
    }

    /**
     * Eight bytes at a time (a {@code VarHandle} read is C1's fastest way through a byte array, and the
     * shipped JIT is C1): a series' bytes are ~50-100, hashed at every point.
     */
    private static int mix(int h, byte[] b, int off, int len) {
        long acc = h;
        int i = off;
        int end = off + len;
        for (; i + 7 < end; i += 8) {
            long k = (long) LONGS.get(b, i);
            acc = Long.rotateLeft(acc ^ (k * 0x9E3779B97F4A7C15L), 29) * 0xBF58476D1CE4E5B9L;
        }
        for (; i < end; i++) {
            acc = (acc ^ (b[i] & 0xff)) * 0x100000001B3L;
        }
        acc ^= len;
        return (int) (acc ^ (acc >>> 32));
    }

    /** The series of these bytes, {@link #FILTERED}, or {@code null} when unknown. */
    Series get(int hash, String source, byte[] line, int nameOff, int nameLen, int tagsOff, int tagsLen) {
        for (Entry e = table[hash & (table.length - 1)]; e != null; e = e.next) {
            if (e.hash == hash && e.nameLen == nameLen && e.bytes.length == nameLen + tagsLen
                    && Arrays.equals(e.bytes, 0, nameLen, line, nameOff, nameOff + nameLen)
                    && Arrays.equals(e.bytes, nameLen, nameLen + tagsLen, line, tagsOff, tagsOff + tagsLen)
                    && e.source.equals(source)) {
                hits++;
                return e.series;
            }
        }
        misses++;
        return null;
    }

    void put(int hash, String source, byte[] line, int nameOff, int nameLen, int tagsOff, int tagsLen, Series series) {
        if (size >= maxEntries) {
            clear();
        }
        if (size >= table.length * 3 / 4) {
            resize();
        }
        byte[] bytes = new byte[nameLen + tagsLen];
        System.arraycopy(line, nameOff, bytes, 0, nameLen);
        System.arraycopy(line, tagsOff, bytes, nameLen, tagsLen);
        int slot = hash & (table.length - 1);
        table[slot] = new Entry(hash, source, bytes, nameLen, series, table[slot]);
        size++;
    }

    private void resize() {
        Entry[] old = table;
        Entry[] t = new Entry[old.length * 2];
        for (Entry head : old) {
            for (Entry e = head; e != null; e = e.next) {
                int slot = e.hash & (t.length - 1);
                t[slot] = new Entry(e.hash, e.source, e.bytes, e.nameLen, e.series, t[slot]);
            }
        }
        table = t;
    }

    /** Forgets every entry (series were dropped or renumbered). */
    void clear() {
        table = new Entry[1024];
        size = 0;
    }

    int size() {
        return size;
    }
}
