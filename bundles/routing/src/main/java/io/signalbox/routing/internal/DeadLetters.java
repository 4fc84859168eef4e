package io.signalbox.routing.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.Message;

/**
 * The dead-letter file of one backend: batches the backend refused as invalid
 * ({@link io.signalbox.api.BatchRejectedException}), which retrying cannot deliver.
 *
 * <p>Files {@code <dir>/<yyyy-MM-dd>.jsonl} (UTC day of writing), one line per message:
 * {@code {"ts":<epoch ms>,"backend":"<name>","reason":"<reason>","message":<the line as received>}}.
 * The received line is embedded as it is (it is a JSON object, checked at ingest), so nothing is
 * re-serialised and the message can be re-sent as it was. Each batch is forced to disk before the
 * channel goes on, since these messages exist nowhere else. Used by the channel's writer only.
 */
final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    private final String name;
    private final Path dir;
    private final LogLimiter log = new LogLimiter();
    private FileChannel file;
    private LocalDate day;

    /** @param dir the backend's dead-letter directory, or {@code null}: rejected batches are only logged */
    DeadLetters(String name, Path dir) {
        this.name = name;
        this.dir = dir;
    }

    /**
     * Appends every message of {@code batch} with {@code reason} and forces the file (or, without
     * a directory, logs that they are dropped).
     *
     * @throws IOException if the file cannot be written; the batch is then not dead-lettered
     */
    void write(Batch batch, String reason) throws IOException {
        String why = reason == null || reason.isBlank() ? "rejected by the backend" : reason;
        List<Message> ms = batch.messages();
        if (dir == null) {
            LOG.error("backend {} rejected a batch of {} messages of source {} as invalid ({}); no dead-letter "
                    + "directory is configured, so they are dropped", name, ms.size(), batch.source(), why);
            return;
        }
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        if (file == null || !today.equals(day)) {
            close();
            PrivateFiles.createDirectories(dir);
            Path p = dir.resolve(today + ".jsonl");
            file = PrivateFiles.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            day = today;
        }
        byte[] prefix = ("{\"ts\":" + Instant.now().toEpochMilli() + ",\"backend\":" + quote(name) + ",\"reason\":"
                + quote(why) + ",\"message\":").getBytes(StandardCharsets.UTF_8);
        OutputStream out = Channels.newOutputStream(file);
        java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream(ms.size() * 256);
        for (Message m : ms) {
            buffer.write(prefix);
            buffer.write(m.line());
            buffer.write('}');
            buffer.write('\n');
        }
        buffer.writeTo(out);
        file.force(false);
        long suppressed = log.permit(ms.size());
        if (suppressed >= 0) {
            LOG.error("backend {} rejected a batch of {} messages of source {} as invalid ({}); written to the "
                    + "dead-letter file {} ({} more dead-lettered messages not logged in the last {} s)", name, ms.size(),
                    batch.source(), why, dir.resolve(day + ".jsonl"), suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS);
        }
    }

    void close() {
        if (file == null) {
            return;
        }
        try {
            file.close();
        } catch (IOException e) {
            LOG.warn("backend {}: closing its dead-letter file in {} failed: {}", name, dir, e.toString(), e);
        }
        file = null;
    }

    /** A JSON string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
