package io.signalbox.metrics.store.internal;

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

    private static int mix(int h, byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        for (; i + 3 < end; i += 4) {
            int k = (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
            k *= 0xcc9e2d51;
            k = Integer.rotateLeft(k, 15) * 0x1b873593;
            h = Integer.rotateLeft(h ^ k, 13) * 5 + 0xe6546b64;
        }
        for (; i < end; i++) {
            h = (h ^ (b[i] & 0xff)) * 0x01000193;
        }
        return h ^ len;
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
