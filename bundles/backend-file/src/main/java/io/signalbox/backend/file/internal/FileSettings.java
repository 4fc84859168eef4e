package io.signalbox.backend.file.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.signalbox.api.ConfigValues;

/**
 * A validated file backend configuration, built once by {@link #of}; {@link FileBackend} takes it
 * as it is (public for the load module's benchmark).
 *
 * @param root                the folder the files are written under, absolute and normalised
 * @param template            the parsed {@code path.template}
 * @param rotateBytes         size a file must not exceed before it is rotated; 0 = no size rotation
 * @param compressRotated     whether rotated files are gzipped
 * @param fsync               when written data is forced to disk
 * @param fsyncIntervalMillis period of {@code fsync=interval}
 * @param bufferBytes         size of the write buffer
 * @param idleCloseMillis     close files not written to for this long; 0 = never
 * @param maxOpenFiles        the most files open at once
 */
public record FileSettings(Path root, PathTemplate template, long rotateBytes, boolean compressRotated, FsyncPolicy fsync,
        long fsyncIntervalMillis, int bufferBytes, long idleCloseMillis, int maxOpenFiles) {

    private static final long MIB = 1024L * 1024L;
    /** Largest {@code buffer.kb}. */
    private static final int MAX_BUFFER_KB = 16 * 1024;
    /** The root when {@code path} is empty. */
    private static final String DEFAULT_PATH = "data/files";

    /**
     * Checks the whole configuration (keys, types, values, path template) and reports every problem at once.
     *
     * @throws io.signalbox.api.ConfigCheck.Rejected naming every problem
     */
    public static FileSettings of(FileConfig config, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(FileConfig.class, config, properties);
        String path = ConfigValues.unquote(config.path());
        Path root = v.parse(() -> root(path.isEmpty() ? DEFAULT_PATH : path));
        PathTemplate template = v.parse(() -> new PathTemplate(ConfigValues.unquote(config.path_template())));
        double rotateMb = v.atLeast("rotate.size.mb", config.rotate_size_mb(), 0.0);
        String fsync = v.oneOf("fsync", config.fsync(), "never", "batch", "interval");
        long fsyncIntervalMillis = v.atLeast("fsync.interval.ms", config.fsync_interval_ms(), 1);
        int bufferKb = v.range("buffer.kb", config.buffer_kb(), 1, MAX_BUFFER_KB);
        long idleSeconds = v.atLeast("idle.close.seconds", config.idle_close_seconds(), 0);
        int maxOpenFiles = v.atLeast("max.open.files", config.max_open_files(), 1);
        v.done();
        return new FileSettings(root, template, (long) (rotateMb * MIB), config.compress_rotated(),
                FsyncPolicy.valueOf(fsync.toUpperCase(Locale.ROOT)), fsyncIntervalMillis, bufferKb * 1024,
                TimeUnit.SECONDS.toMillis(idleSeconds), maxOpenFiles);
    }

    private static Path root(String path) {
        try {
            return Path.of(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("'path' must be a valid path, is \"" + path + "\" (" + e.getReason() + ")");
        }
    }

    /** The effective configuration, for the log. */
    String describe() {
        return "path=" + root + " path.template=" + template + " rotate.size.mb=" + (double) rotateBytes / MIB
                + " compress.rotated=" + compressRotated + " fsync=" + fsync.name().toLowerCase(Locale.ROOT)
                + " fsync.interval.ms=" + fsyncIntervalMillis + " buffer.kb=" + bufferBytes / 1024
                + " idle.close.seconds=" + idleCloseMillis / 1000 + " max.open.files=" + maxOpenFiles;
    }
}
