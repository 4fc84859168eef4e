package io.signalbox.backend.file.internal;

import java.util.Locale;

/** When written data is forced to the storage device ({@code fsync=}). */
enum FsyncPolicy {
    /** Never: the OS writes back when it likes; a power loss can lose recent lines. */
    NEVER,
    /** Every batch is forced to disk before {@code write} returns. */
    BATCH,
    /** Files written to are forced every {@code fsync.interval.ms}, in the background. */
    INTERVAL;

    static FsyncPolicy parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "never": return NEVER;
            case "batch": return BATCH;
            case "interval": return INTERVAL;
            default:
                throw new IllegalArgumentException("fsync must be one of never, batch, interval; got \"" + value + "\"");
        }
    }
}
