package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Spool segments, cursors and dead letters hold the messages themselves: they are created 0640
 * (folders 0750), not readable by other local users, whatever the umask allows. Existing files keep
 * their mode. On a file system without POSIX permissions the platform's defaults apply.
 */
final class PrivateFiles {
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-r-----");
    static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwxr-x---");

    private PrivateFiles() {
    }

    static FileChannel open(Path path, OpenOption... options) throws IOException {
        Set<OpenOption> set = Set.of(options);
        try {
            return FileChannel.open(path, set, PosixFilePermissions.asFileAttribute(FILE));
        } catch (UnsupportedOperationException e) {
            return FileChannel.open(path, set, new FileAttribute<?>[0]);
        }
    }

    static void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }
}
