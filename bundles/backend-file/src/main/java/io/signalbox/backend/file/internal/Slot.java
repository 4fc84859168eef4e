package io.signalbox.backend.file.internal;

import java.nio.file.Path;

/**
 * One expansion of the path template, e.g. {@code a/2024-05-01.jsonl}, and its size-rotated
 * successors {@code a/2024-05-01.<n>.jsonl}: which of them is written to now. Guarded by the
 * backend's lock.
 */
final class Slot {
    final String key;
    /** The template period ({@link PathTemplate#periodOf}) it belongs to; it is retired when that is over. */
    final long period;
    private final Path dir;
    private final String stem;
    private final String ext;
    /** The index of the file written to; -1 until the first file is opened. */
    int index = -1;
    /** The open file, or {@code null} (none yet, or closed as idle or to make room). */
    OpenFile current;
    /** Its period is over (or the backend is closed): no longer written to. */
    boolean retired;
    /** The file this slot closed last, at a line boundary, and its size then; {@code null} if none. */
    Path closedPath;
    long closedSize;

    Slot(String key, Path base, long period) {
        this(key, base, period, null);
    }

    /**
     * @param like a slot made before, or {@code null}: its stem and extension are shared if they are
     *             the same (with a slot per source, 10,000 copies of the date and of {@code .jsonl} otherwise)
     */
    Slot(String key, Path base, long period, Slot like) {
        this.key = key;
        this.period = period;
        this.dir = base.getParent();
        String file = base.getFileName().toString();
        int dot = file.lastIndexOf('.');
        String s = dot > 0 ? file.substring(0, dot) : file;
        String e = dot > 0 ? file.substring(dot) : "";
        this.stem = like != null && like.stem.equals(s) ? like.stem : s;
        this.ext = like != null && like.ext.equals(e) ? like.ext : e;
    }

    /** The folder of its files. */
    Path dir() {
        return dir;
    }

    /** File {@code i}: 0 is the template's expansion, the others carry {@code .<i>} before the extension. */
    Path pathOf(int i) {
        return dir.resolve(i == 0 ? stem + ext : stem + "." + i + ext);
    }

    /** The file written to last, or {@code null} if none was opened. */
    Path lastPath() {
        return current != null ? current.path : index >= 0 ? pathOf(index) : null;
    }
}
