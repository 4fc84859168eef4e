package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.RateLimitedLog;

/**
 * The files of one backend: the slots (template expansions) in use and their open files, at most
 * {@code max.open.files} of them (the least recently written is closed first). Closes idle files,
 * retires slots whose period is over (their last file is counted as rotated and compressed), and
 * undoes a failed batch file by file.
 *
 * <p>Opening a file is careful: after a restart a slot continues its newest plain file that has
 * room, a file whose truncation failed after a failed batch is cut back when opened again, and a
 * torn last line (left by a crash) is cut.
 *
 * <p>Not thread-safe: used under the backend's lock.
 */
final class OpenFiles {
    private static final Logger LOG = LoggerFactory.getLogger(OpenFiles.class);

    private final String name;
    private final FileSettings settings;
    private final FileSink.Factory sinks;
    private final FileStats stats;
    private final Compressor compressor;
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    private final HashMap<String, Slot> slots = new HashMap<>();
    /** The slot made last: the next one shares its stem and extension if they are the same. */
    private Slot lastSlot;
    /** The open files, least recently committed first (access order): the next to close is the first. */
    private final LinkedHashMap<OpenFile, Boolean> leastRecentFirst = new LinkedHashMap<>(64, 0.75f, true);
    /**
     * Files closed to make room while written since their last fsync, under {@code fsync=interval}:
     * the interval task forces them ({@link #takeEvictedUnsynced}) instead of the writer paying an
     * fsync for every batch when there are more sources than {@code max.open.files}.
     */
    /**
     * A set, not a list: with thousands of sources the same file is closed again and again before
     * the next interval run, and a disk slower than that must not turn this into a queue that
     * grows until the heap is full.
     */
    private final LinkedHashSet<Path> evictedUnsynced = new LinkedHashSet<>();
    /** Files a failed batch could not be truncated back: the length to cut them to when next opened. */
    private final HashMap<Path, Long> truncateOnOpen = new HashMap<>();
    /** {@code max.open.files}, lowered if the process runs out of descriptors ({@link #lowerLimit}). */
    private int maxOpenFiles;
    /** For {@link #repairTail}; guarded by the backend lock like everything here. */
    private final ByteBuffer tailBuffer = ByteBuffer.allocate(8192);

    OpenFiles(String name, FileSettings settings, FileSink.Factory sinks, FileStats stats, Compressor compressor) {
        this.name = name;
        this.settings = settings;
        this.maxOpenFiles = settings.maxOpenFiles();
        stats.maxOpenFiles(maxOpenFiles);
        this.sinks = sinks;
        this.stats = stats;
        this.compressor = compressor;
    }

    /** The slot of template expansion {@code key} (of {@code period} if it is new). */
    Slot slot(String key, long period) throws IOException {
        Slot slot = slots.get(key);
        if (slot == null) {
            Path root = settings.root();
            Path base = root.resolve(key).normalize();
            if (!base.startsWith(root)) {
                throw new IOException("path " + key + " is outside " + root);
            }
            slot = new Slot(key, base, period, lastSlot);
            slots.put(key, slot);
            lastSlot = slot;
        }
        return slot;
    }

    /**
     * Creates {@code path} with {@code file.mode} (the umask can only take bits away). An existing
     * file keeps the mode it has: an operator may have changed it.
     */
    private void createFile(Path path) throws IOException {
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(settings.fileMode()));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // created in between (a probe, a test): it keeps its mode
        } catch (UnsupportedOperationException e) {
            Files.createFile(path); // not a POSIX file system: the platform's default
        }
    }

    /** Opens the current file of {@code slot} for batch {@code txn}, first closing one if too many are open. */
    OpenFile open(Slot slot, long txn) throws IOException {
        if (slot.index < 0) {
            slot.index = probe(slot);
        }
        Path path = slot.pathOf(slot.index);
        makeRoom(txn);
        Path dir = slot.dir(); // (path.getParent() would make the path keep an index of its names)
        if (!Files.isDirectory(dir)) { // (createDirectories on an existing folder costs a failed mkdir and an exception)
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(settings.dirMode()));
        }
        boolean existed = Files.exists(path);
        OpenFile f;
        try {
            if (!existed) {
                createFile(path);
            }
            f = new OpenFile(slot, path, sinks.open(path), !existed);
        } catch (IOException e) {
            if (!DescriptorLimit.outOfDescriptors(e) || !lowerLimit(txn, e)) {
                throw e;
            }
            if (!existed) {
                createFile(path);
            }
            f = new OpenFile(slot, path, sinks.open(path), !existed);
        }
        try {
            Long cut = truncateOnOpen.get(path);
            if (cut != null) {
                if (f.sink.size() > cut) {
                    f.sink.truncate(cut);
                    LOG.warn("File backend \"{}\": cut {} back to {} bytes, the length before a failed batch", name,
                            path, cut);
                }
                truncateOnOpen.remove(path);
            }
            f.size = !existed ? 0 : reopenedClean(slot, f) ? slot.closedSize : repairTail(f);
        } catch (IOException | RuntimeException e) {
            try {
                f.sink.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        stats.opened();
        if (!existed && settings.fsync() == FsyncPolicy.BATCH) {
            syncDirectory(dir);
        }
        slot.current = f;
        f.txn = txn;
        leastRecentFirst.put(f, Boolean.TRUE);
        LOG.debug("File backend \"{}\": opened {} ({} bytes)", name, path, f.size);
        return f;
    }

    /** First index of a slot: continue the newest plain file with room, else start the next one. */
    private int probe(Slot slot) throws IOException {
        int last = -1;
        for (int i = 0;; i++) {
            Path p = slot.pathOf(i);
            if (!Files.exists(p) && !Files.exists(Gzip.target(p))) {
                break;
            }
            last = i;
        }
        if (last < 0) {
            return 0;
        }
        Path p = slot.pathOf(last);
        long rotateBytes = settings.rotateBytes();
        boolean appendable = Files.exists(p) && !Files.exists(Gzip.target(p)) && !compressor.isCompressing(p)
                && (rotateBytes == 0 || Files.size(p) < rotateBytes);
        return appendable ? last : last + 1;
    }

    /**
     * Whether {@code f} is the file this slot closed last (to make room, or idle) and nothing
     * changed it since: it ends where its last committed batch ended, no repair needed. With more
     * sources than max.open.files every batch may reopen a file; reading its tail each time would
     * cost a read and an 8 KiB buffer per batch.
     */
    private boolean reopenedClean(Slot slot, OpenFile f) throws IOException {
        return f.path.equals(slot.closedPath) && f.sink.size() == slot.closedSize;
    }

    /**
     * Cuts a torn last line (a crash or a failed truncate left bytes after the last newline):
     * such a line was never acknowledged, its batch is retried.
     */
    private long repairTail(OpenFile f) throws IOException {
        long size = f.sink.size();
        if (size == 0) {
            return 0;
        }
        ByteBuffer chunkBuffer = tailBuffer;
        long end = size;
        while (end > 0) {
            int chunk = (int) Math.min(chunkBuffer.capacity(), end);
            chunkBuffer.clear().limit(chunk);
            long pos = end - chunk;
            while (chunkBuffer.hasRemaining()) {
                if (f.sink.read(chunkBuffer, pos + chunkBuffer.position()) < 0) {
                    throw new IOException("unexpected end of " + f.path);
                }
            }
            for (int i = chunk - 1; i >= 0; i--) {
                if (chunkBuffer.get(i) == '\n') {
                    long keep = pos + i + 1;
                    if (keep < size) {
                        LOG.warn("File backend \"{}\": {} ended in a partial line; cut {} bytes (that batch is retried)",
                                name, f.path, size - keep);
                        f.sink.truncate(keep);
                    }
                    return keep;
                }
            }
            end = pos;
        }
        LOG.warn("File backend \"{}\": {} held only a partial line; cut {} bytes", name, f.path, size);
        f.sink.truncate(0);
        return 0;
    }

    private void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("File backend \"{}\": cannot fsync directory {} on this platform", name, dir, e);
        }
    }

    /**
     * The process ran out of file descriptors (the limit is lower than {@code max.open.files}
     * assumed, or something else holds many): from now on at most half of the files open now,
     * and room is made at once. Returns false if this backend holds no file it could close.
     */
    private boolean lowerLimit(long txn, IOException cause) {
        int openNow = stats.openFiles();
        if (openNow == 0) {
            return false;
        }
        int lowered = Math.max(1, openNow / 2);
        LOG.warn("File backend \"{}\": the process ran out of file descriptors ({}) with {} files open here; "
                + "max.open.files lowered from {} to {} until the backend is reconfigured. Raise the process's limit "
                + "(ulimit -n, systemd LimitNOFILE) or set max.open.files lower", name, cause.getMessage(), openNow,
                maxOpenFiles, lowered);
        maxOpenFiles = lowered;
        stats.maxOpenFiles(lowered);
        makeRoom(txn);
        return true;
    }

    /** Keeps the number of open files below max.open.files by closing the least recently written. */
    private void makeRoom(long txn) {
        while (stats.openFiles() >= maxOpenFiles) {
            OpenFile victim = null;
            for (OpenFile f : leastRecentFirst.keySet()) {
                if (f.txn != txn) {
                    victim = f;
                    break;
                }
            }
            if (victim == null) {
                return;
            }
            if (settings.fsync() == FsyncPolicy.INTERVAL && victim.dirty) {
                victim.dirty = false; // its data is forced by the interval task, by path
                evictedUnsynced.add(victim.path);
            }
            close(victim);
        }
    }

    /** A batch committed to {@code f} at {@code now}: it becomes the most recently written file. */
    void committed(OpenFile f, long now, boolean dirty) {
        f.lastWrite = now;
        f.dirty = dirty;
        leastRecentFirst.get(f); // access order: moves it to the end
    }

    /** The files closed to make room that still need their interval fsync; the caller forces them. */
    List<Path> takeEvictedUnsynced() {
        if (evictedUnsynced.isEmpty()) {
            return List.of();
        }
        List<Path> out = new ArrayList<>(evictedUnsynced);
        evictedUnsynced.clear();
        return out;
    }

    /** Forces {@code f} to disk (whatever the policy). */
    void force(OpenFile f) throws IOException {
        f.sink.force();
        stats.forced();
        f.dirty = false;
    }

    /** The open files written to since their last fsync, marked clean (the caller forces them). */
    List<OpenFile> takeDirty() {
        List<OpenFile> dirty = new ArrayList<>();
        for (Slot s : slots.values()) {
            OpenFile f = s.current;
            if (f != null && f.dirty) {
                f.dirty = false;
                dirty.add(f);
            }
        }
        return dirty;
    }

    /** Closes {@code f} (forced first unless fsync=never), and detaches it from its slot; failures are logged. */
    void close(OpenFile f) {
        if (f.slot.current == f) {
            f.slot.current = null;
        }
        if (f.closed) {
            return;
        }
        f.closed = true;
        leastRecentFirst.remove(f);
        stats.closed();
        // committed batches end on a line boundary; a failed batch's file is cut back on reopen instead
        boolean clean = !truncateOnOpen.containsKey(f.path);
        f.slot.closedPath = clean ? f.path : null;
        f.slot.closedSize = f.size;
        try (FileSink sink = f.sink) {
            if (settings.fsync() != FsyncPolicy.NEVER && f.dirty) {
                force(f);
            }
        } catch (IOException e) {
            rateLimited.error("close", "File backend \"{}\": closing {} failed", name, f.path, e);
        }
    }

    /** A file a batch rotated away by size: closed, counted, compressed. */
    void rotatedAway(OpenFile f) {
        close(f);
        rolledOver(f.path);
    }

    /**
     * Retires the slots of periods other than {@code period} (their day or hour is over) and
     * closes the files last written at or before {@code lastWriteAtMost}.
     */
    void sweep(long period, long lastWriteAtMost) {
        List<Slot> over = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (s.period != period) {
                over.add(s);
            } else if (s.current != null && s.current.lastWrite <= lastWriteAtMost) {
                LOG.debug("File backend \"{}\": closing idle {}", name, s.current.path);
                close(s.current);
            }
        }
        for (Slot s : over) {
            retire(s);
        }
    }

    /** Closes every file; those of periods other than {@code period} are retired (and compressed). */
    void closeAll(long period) {
        sweep(period, Long.MAX_VALUE);
        slots.clear();
        lastSlot = null;
    }

    /** Closes a slot that is no longer written to and compresses its last file. */
    void retire(Slot slot) {
        slot.retired = true;
        slots.remove(slot.key, slot);
        if (lastSlot == slot) {
            lastSlot = null;
        }
        Path last = slot.lastPath();
        if (slot.current != null) {
            close(slot.current);
        }
        if (last != null && Files.exists(last)) {
            rolledOver(last);
        }
    }

    private void rolledOver(Path file) {
        stats.rotated();
        compressor.submit(file);
    }

    /**
     * Undoes what a failed batch wrote to {@code f}: cuts it back to {@code startSize}, or deletes
     * it if the batch created it. If that fails, closes it; it is cut when opened again.
     */
    void undo(OpenFile f, long startSize, boolean created) {
        if (f.closed) {
            return;
        }
        try {
            if (created) {
                close(f);
                Files.deleteIfExists(f.path);
            } else {
                f.sink.truncate(startSize);
                f.size = startSize;
            }
        } catch (IOException | RuntimeException e) {
            rateLimited.error("truncate", "File backend \"{}\": could not truncate {} back to {} bytes after a failed"
                    + " write; closing it, it is cut when next opened", name, f.path, startSize, e);
            truncateOnOpen.put(f.path, startSize);
            close(f);
        }
    }
}
