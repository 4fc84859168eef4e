package io.signalbox.routing.internal;

import java.nio.file.Path;
import java.util.ArrayDeque;

/** One segment file of a {@link Spool}; guarded by the spool's monitor. */
final class SpoolSegment {
    final long seq;
    final Path path;
    /** Bytes of whole records in the file. */
    long size;
    /** Message count of every record not yet delivered, in order, for the gauges as records are consumed. */
    final ArrayDeque<Integer> recordMessages = new ArrayDeque<>();

    SpoolSegment(long seq, Path path) {
        this.seq = seq;
        this.path = path;
    }

    /** Messages of the records not yet delivered. */
    long unconsumedMessages() {
        long n = 0;
        for (int m : recordMessages) {
            n += m;
        }
        return n;
    }
}
