package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/** Compresses a closed file to {@code <file>.gz} without ever leaving a half-written {@code .gz}. */
final class Gzip {
    private static final int BUFFER = 64 * 1024;

    private Gzip() {
    }

    static Path target(Path file) {
        return file.resolveSibling(file.getFileName() + ".gz");
    }

    /**
     * Writes {@code <file>.gz.tmp}, optionally forces it to disk, renames it to
     * {@code <file>.gz} and deletes {@code file}. On failure the temporary file is removed
     * and {@code file} is left as it was.
     */
    static Path compress(Path file, boolean fsync) throws IOException {
        Path gz = target(file);
        Path tmp = file.resolveSibling(file.getFileName() + ".gz.tmp");
        try {
            Files.deleteIfExists(tmp);
            try {
                // the compressed copy is as private as the file it replaces
                Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        Files.getPosixFilePermissions(file)));
            } catch (UnsupportedOperationException e) {
                Files.createFile(tmp);
            }
            try (InputStream in = Files.newInputStream(file);
                    FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream raw = Channels.newOutputStream(channel);
                GZIPOutputStream out = new GZIPOutputStream(raw, BUFFER);
                in.transferTo(out);
                out.finish();
                raw.flush();
                if (fsync) {
                    channel.force(true);
                }
                out.close(); // releases the Deflater; closes the channel too (closing it again is a no-op)
            }
            try {
                Files.move(tmp, gz, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, gz, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        Files.delete(file);
        return gz;
    }
}
