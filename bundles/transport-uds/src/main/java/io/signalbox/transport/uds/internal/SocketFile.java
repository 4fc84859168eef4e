package io.signalbox.transport.uds.internal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the listening socket file safely.
 *
 * <ul>
 * <li>A socket file left by a crash (nobody accepts on it) is replaced; one that a running
 * process still accepts on is not touched (start fails: two sidecars on one socket).</li>
 * <li>A path that is not a socket (a regular file, a folder, a link, a FIFO …) is never deleted.</li>
 * <li>The socket is bound under a temporary name in the same folder, given its mode and group,
 * and only then renamed to the configured path: no client ever sees it with looser permissions.</li>
 * </ul>
 */
final class SocketFile {
    private static final Logger LOG = LoggerFactory.getLogger(SocketFile.class);
    /** {@code S_IFMT} and {@code S_IFSOCK} of {@code stat(2)}'s {@code st_mode}. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private SocketFile() {
    }

    /** Whether {@code path} is a socket (not following a link). */
    static boolean isSocket(Path path) throws IOException {
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return ((Integer) mode & S_IFMT) == S_IFSOCK;
    }

    /**
     * Binds a listening channel on {@code settings.path()} with its mode and group.
     *
     * @throws IOException naming the path and what is wrong (not a socket, in use, group unknown …)
     */
    static ServerSocketChannel bind(UdsSettings settings) throws IOException {
        Path path = settings.path();
        Path dir = path.getParent();
        Files.createDirectories(dir);
        clearStale(path);
        Path tmp = dir.resolve("." + path.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(tmp); // our own leftover: the name carries our pid
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(tmp), Math.max(50, settings.maxConnections()));
            Files.setPosixFilePermissions(tmp, permissions(settings.mode()));
            if (!settings.group().isEmpty()) {
                GroupPrincipal g;
                try {
                    g = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(settings.group());
                } catch (IOException e) {
                    throw new IOException("group '" + settings.group() + "' of " + path + ": " + e.getMessage(), e);
                }
                Files.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(g);
            }
            clearStale(path); // again: closes the window in which someone else could have put a file there
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " to " + path + " atomically", e);
            }
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * Deletes {@code path} if it is a socket nobody accepts on; leaves a missing path alone.
     *
     * @throws IOException if the path is not a socket, or a live socket someone accepts on
     */
    static void clearStale(Path path) throws IOException {
        boolean socket;
        try {
            socket = isSocket(path);
        } catch (NoSuchFileException e) {
            return;
        }
        if (!socket) {
            throw new IOException(path + " exists and is not a socket; it is left alone (move it away or configure"
                    + " another path)");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException(path + " is a socket another process accepts on (a second sidecar?); it is left"
                    + " alone");
        } catch (java.net.ConnectException e) {
            Files.deleteIfExists(path);
            LOG.info("Replaced the stale socket file {} (nothing accepted on it)", path);
        }
    }

    /** The permission set of the low nine bits of {@code mode}. */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE,
        };
        for (int i = 0; i < order.length; i++) {
            if ((mode & (0400 >> i)) != 0) {
                p.add(order[i]);
            }
        }
        return p;
    }
}
