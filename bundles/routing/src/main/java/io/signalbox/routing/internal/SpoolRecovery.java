package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens what an earlier run left in a spool's directory: every segment is scanned; at the first
 * record that is torn (shorter than its header says) or corrupt (bad length, bad CRC, undecodable
 * payload) the segment is truncated there, and the truncation counted and logged. Segments
 * delivered before the restart (before the cursor's) and segments left empty are deleted; files
 * that are not segments are counted and left alone. Nothing here throws on the files' contents.
 */
final class SpoolRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolRecovery.class);

    /**
     * What was found.
     *
     * @param segments   the segments to replay, oldest first
     * @param readOffset the offset of the first undelivered record in the oldest one
     * @param highestSeq the highest segment number in use (new segments are numbered above it, so a
     *                   stale cursor never points past them)
     * @param bytes      bytes not yet delivered
     * @param messages   messages not yet delivered
     * @param corrupt    records truncated
     * @param ignored    files that are not the spool's own
     */
    record Recovered(ArrayDeque<SpoolSegment> segments, long readOffset, long highestSeq, long bytes, long messages,
            long corrupt, long ignored) {
    }

    private final String name;
    private final Path dir;
    private long corrupt;
    private long ignored;

    private SpoolRecovery(String name, Path dir) {
        this.name = name;
        this.dir = dir;
    }

    /**
     * @throws IOException if the directory cannot be listed or a segment cannot be truncated or deleted
     */
    static Recovered recover(String name, Path dir, SpoolCursor cursor) throws IOException {
        return new SpoolRecovery(name, dir).recover(cursor);
    }

    private Recovered recover(SpoolCursor cursor) throws IOException {
        ArrayDeque<SpoolSegment> segments = new ArrayDeque<>();
        if (!Files.isDirectory(dir)) {
            return new Recovered(segments, 0, 0, 0, 0, 0, 0);
        }
        SpoolCursor.Position at = cursor.read();
        long highestSeq = 0;
        for (long seq : segmentNumbers()) {
            Path path = dir.resolve(SpoolFiles.segmentName(seq));
            if (at != null && seq < at.seq()) {
                Files.deleteIfExists(path); // delivered before the restart
                continue;
            }
            SpoolSegment s = new SpoolSegment(seq, path);
            scan(s);
            if (s.recordMessages.isEmpty()) {
                // nothing (left) in it: removed, so that a damaged name cannot push the numbering up either
                Files.deleteIfExists(s.path);
                continue;
            }
            segments.addLast(s);
            highestSeq = seq;
        }
        if (at != null) {
            highestSeq = Math.max(highestSeq, Math.min(at.seq(), SpoolFiles.MAX_SEQ));
        }
        long readOffset = 0;
        if (at != null && !segments.isEmpty() && segments.peekFirst().seq == at.seq()) {
            readOffset = skipDelivered(segments.peekFirst(), at.offset());
        }
        long bytes = -readOffset;
        long messages = 0;
        for (SpoolSegment s : segments) {
            bytes += s.size;
            messages += s.unconsumedMessages();
        }
        if (messages > 0 || corrupt > 0) {
            LOG.info("spool of backend {}: {} messages ({} bytes) in {} segments to replay{}", name, messages, bytes,
                    segments.size(), corrupt > 0 ? "; " + corrupt + " corrupt records truncated" : "");
        }
        return new Recovered(segments, readOffset, highestSeq, bytes, messages, corrupt, ignored);
    }

    /** The numbers of the segment files, in order; other files are counted as ignored. */
    private List<Long> segmentNumbers() throws IOException {
        List<Long> seqs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String f = p.getFileName().toString();
                if (f.equals(SpoolCursor.FILE)) {
                    continue;
                }
                long seq = SpoolFiles.segmentSeq(f);
                if (seq > 0 && Files.isRegularFile(p)) {
                    seqs.add(seq);
                } else {
                    ignored++;
                    LOG.warn("spool of backend {}: ignoring {}, not a spool file (left as it is)", name, p);
                }
            }
        }
        seqs.sort(null);
        return seqs;
    }

    /** Marks the records before {@code offset} of the head segment as delivered; returns where the next starts. */
    private static long skipDelivered(SpoolSegment head, long offset) throws IOException {
        long at = 0;
        try (FileChannel r = FileChannel.open(head.path, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(SpoolCodec.HEADER);
            while (at < offset && !head.recordMessages.isEmpty()) {
                h.clear();
                if (SpoolCodec.readFully(r, h, at) != SpoolCodec.HEADER) {
                    break;
                }
                at += SpoolCodec.HEADER + h.getInt(0);
                head.recordMessages.pollFirst();
            }
        }
        return at;
    }

    /** Reads every record of a segment; truncates it at the first torn or corrupt one. */
    private void scan(SpoolSegment s) throws IOException {
        try (FileChannel c = FileChannel.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = c.size();
            long at = 0;
            String problem = null;
            while (at < size) {
                SpoolCodec.Read r = SpoolCodec.read(c, at, size);
                if (r.problem() != null) {
                    problem = r.problem();
                    break;
                }
                s.recordMessages.addLast(r.batch().size());
                at = r.end(at);
            }
            if (problem != null) {
                corrupt++;
                LOG.error("spool of backend {}: {} at offset {} of {} ({} bytes); the segment is truncated there, "
                        + "the {} records before it are kept", name, problem, at, s.path, size,
                        s.recordMessages.size());
                c.truncate(at);
            }
            s.size = at;
        }
    }
}
