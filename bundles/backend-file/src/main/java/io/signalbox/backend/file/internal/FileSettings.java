package io.signalbox.backend.file.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

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
 * @param maxOpenFiles        the most files open at once ({@code max.open.files}; 0 there means auto, resolved here)
 * @param fileMode            permissions of created files ({@code file.mode}, default 0640: not world-readable)
 * @param dirMode             permissions of created folders ({@code dir.mode}, default 0750)
 * @param outsideHome         the root is outside the distribution folder (allowed by {@code allow.absolute.path})
 */
public record FileSettings(Path root, PathTemplate template, long rotateBytes, boolean compressRotated, FsyncPolicy fsync,
        long fsyncIntervalMillis, int bufferBytes, long idleCloseMillis, int maxOpenFiles,
        Set<PosixFilePermission> fileMode, Set<PosixFilePermission> dirMode, boolean outsideHome) {
    /** System property with the distribution folder, set by bin/signalbox. */
    static final String HOME_PROPERTY = "signalbox.home";
    private static final Pattern OCTAL = Pattern.compile("0?[0-7]{3}");

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
        String home = System.getProperty(HOME_PROPERTY);
        return of(config, properties, home == null || home.isBlank() ? null : Path.of(home));
    }

    /**
     * The same, with the distribution folder {@code home}: a root outside it is a problem unless
     * {@code allow.absolute.path=true}; {@code null} (tests, benchmarks, in-framework tests: no
     * distribution) allows any root.
     */
    static FileSettings of(FileConfig config, Map<String, ?> properties, Path home) {
        ConfigValues v = ConfigValues.of(FileConfig.class, config, properties);
        String path = ConfigValues.unquote(config.path());
        Path root = v.parse(() -> root(path.isEmpty() ? DEFAULT_PATH : path));
        boolean outside = false;
        if (root != null && home != null) {
            Path h = home.toAbsolutePath().normalize();
            outside = !root.startsWith(h) || root.equals(h);
            v.check(!outside || config.allow_absolute_path(), "'path' " + root + " is outside the distribution folder "
                    + h + " (or is that folder itself); set allow.absolute.path=true to write there");
        }
        Set<PosixFilePermission> fileMode = mode(v, "file.mode", config.file_mode());
        Set<PosixFilePermission> dirMode = mode(v, "dir.mode", config.dir_mode());
        PathTemplate template = v.parse(() -> new PathTemplate(ConfigValues.unquote(config.path_template())));
        double rotateMb = v.atLeast("rotate.size.mb", config.rotate_size_mb(), 0.0);
        String fsync = v.oneOf("fsync", config.fsync(), "never", "batch", "interval");
        long fsyncIntervalMillis = v.atLeast("fsync.interval.ms", config.fsync_interval_ms(), 1);
        int bufferKb = v.range("buffer.kb", config.buffer_kb(), 1, MAX_BUFFER_KB);
        long idleSeconds = v.atLeast("idle.close.seconds", config.idle_close_seconds(), 0);
        int maxOpenFiles = v.atLeast("max.open.files", config.max_open_files(), 0);
        v.done();
        if (maxOpenFiles == 0) {
            maxOpenFiles = DescriptorLimit.autoMaxOpenFiles(DescriptorLimit.ofThisProcess());
        }
        return new FileSettings(root, template, (long) (rotateMb * MIB), config.compress_rotated(),
                FsyncPolicy.valueOf(fsync.toUpperCase(Locale.ROOT)), fsyncIntervalMillis, bufferKb * 1024,
                TimeUnit.SECONDS.toMillis(idleSeconds), maxOpenFiles, fileMode, dirMode, outside);
    }

    /** Octal permission bits such as 0640; the owner must be able to read and write (folders: and enter). */
    private static Set<PosixFilePermission> mode(ConfigValues v, String key, String value) {
        String m = ConfigValues.unquote(value).trim();
        if (!OCTAL.matcher(m).matches()) {
            v.problem("'" + key + "' must be octal permission bits like 0640, is \"" + m + "\"");
            return Set.of();
        }
        int bits = Integer.parseInt(m, 8);
        int need = key.startsWith("dir") ? 0700 : 0600;
        v.check((bits & need) == need, "'" + key + "' must let the owner " + (need == 0700 ? "read, write and enter" : "read and write")
                + ", is " + m);
        return PosixFilePermissions.fromString(rwx(bits));
    }

    private static String rwx(int bits) {
        String letters = "rwxrwxrwx";
        StringBuilder b = new StringBuilder(9);
        for (int i = 0; i < 9; i++) {
            b.append((bits & (0400 >> i)) != 0 ? letters.charAt(i) : '-');
        }
        return b.toString();
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
                + " idle.close.seconds=" + idleCloseMillis / 1000 + " max.open.files=" + maxOpenFiles
                + " file.mode=" + PosixFilePermissions.toString(fileMode) + " dir.mode=" + PosixFilePermissions.toString(dirMode)
                + (outsideHome ? " (outside the distribution folder: allow.absolute.path=true)" : "");
    }
}
