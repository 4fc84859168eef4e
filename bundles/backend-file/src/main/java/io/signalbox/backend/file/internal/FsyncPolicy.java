package io.signalbox.backend.file.internal;

/** When written data is forced to the storage device ({@code fsync=}, lower case). */
enum FsyncPolicy {
    /** Never: the OS writes back when it likes; a power loss can lose recent lines. */
    NEVER,
    /** Every batch is forced to disk before {@code write} returns. */
    BATCH,
    /** Files written to are forced every {@code fsync.interval.ms}, in the background. */
    INTERVAL
}
