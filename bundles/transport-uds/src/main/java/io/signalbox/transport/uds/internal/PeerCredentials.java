package io.signalbox.transport.uds.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Who is at the other end of a Unix domain socket: {@code SO_PEERCRED} through
 * {@link ExtendedSocketOptions#SO_PEERCRED}. Java 17 gives the user and group <em>names</em> of the
 * peer's uid and gid (the number itself when the name is unknown), not the pid; the numeric ids are
 * looked up in {@code /etc/passwd} and {@code /etc/group} (local accounts; -1 when not found).
 *
 * @param user user name of the peer's uid, {@code null} when unavailable
 * @param group group name of the peer's gid, {@code null} when unavailable
 * @param uid the peer's uid, -1 when unknown
 * @param gid the peer's gid, -1 when unknown
 */
record PeerCredentials(String user, String group, long uid, long gid) {
    static final PeerCredentials UNKNOWN = new PeerCredentials(null, null, -1, -1);

    /** The peer of {@code channel}, {@link #UNKNOWN} if the platform or the JDK cannot say. */
    static PeerCredentials of(SocketChannel channel) {
        UnixDomainPrincipal p;
        try {
            p = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
        } catch (IOException | UnsupportedOperationException | LinkageError e) {
            return UNKNOWN; // jdk.net not wired, or not Linux/macOS: the connection still works
        }
        String user = p.user().getName();
        String group = p.group().getName();
        return new PeerCredentials(user, group, id(user, Path.of("/etc/passwd")), id(group, Path.of("/etc/group")));
    }

    /** The numeric id of {@code name}: the name itself if numeric, else field 3 of its line in {@code db}. */
    static long id(String name, Path db) {
        if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
            return Long.parseLong(name);
        }
        try {
            for (String line : Files.readAllLines(db, StandardCharsets.UTF_8)) {
                String[] f = line.split(":", -1);
                if (f.length > 2 && f[0].equals(name) && f[2].chars().allMatch(Character::isDigit) && !f[2].isEmpty()) {
                    return Long.parseLong(f[2]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1; // no local account database: the name is still shown in the log
        }
        return -1;
    }

    @Override
    public String toString() {
        return user == null ? "peer unknown" : "uid " + uid + " (" + user + "), gid " + gid + " (" + group + ")";
    }
}
