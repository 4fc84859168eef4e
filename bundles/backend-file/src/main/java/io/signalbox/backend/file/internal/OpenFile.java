package io.signalbox.backend.file.internal;

import java.nio.file.Path;

/** An open file of a {@link Slot} and what the backend knows about it. Guarded by the backend's lock. */
final class OpenFile {
    final Slot slot;
    final Path path;
    final FileSink sink;
    /** Whether opening it created it (a failed first batch deletes it again). */
    final boolean created;
    /** Its length as the backend wrote it (the buffer included). */
    long size;
    /** When a batch written to it was committed. */
    long lastWrite;
    /** The last batch that wrote to it. */
    long txn = -1;
    /** Written to since its last fsync. */
    boolean dirty;
    boolean closed;

    OpenFile(Slot slot, Path path, FileSink sink, boolean created) {
        this.slot = slot;
        this.path = path;
        this.sink = sink;
        this.created = created;
    }
}
