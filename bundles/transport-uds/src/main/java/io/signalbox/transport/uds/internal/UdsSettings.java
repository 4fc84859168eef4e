package io.signalbox.transport.uds.internal;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

import io.signalbox.api.ConfigValues;
import io.signalbox.protocol.SharedSecrets;

/**
 * The Unix domain socket transport's configuration, checked once ({@link #of}).
 *
 * @param path               the socket file (relative paths are resolved against the working directory,
 *                           the distribution folder)
 * @param mode               permission bits of the socket file (octal in the configuration)
 * @param group              group of the socket file, empty to keep the process's
 * @param maxLineLength      longest accepted line in bytes, without its newline
 * @param maxConnections     open connections allowed at once
 * @param idleTimeoutSeconds close a connection silent this long (0 = never)
 * @param shutdownDrainMs    on shutdown, at most this long to read what clients already sent
 * @param secrets            what a connection must present in its hello
 * @param evictAfterSeconds  at max.connections, a connection that delivered nothing for this long makes room
 */
record UdsSettings(Path path, int mode, String group, int maxLineLength, int maxConnections, int idleTimeoutSeconds,
        long shutdownDrainMs, SharedSecrets secrets, int evictAfterSeconds) {
    private static final Pattern OCTAL = Pattern.compile("0?[0-7]{3}");

    static UdsSettings of(UdsTransport.Config c, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(UdsTransport.Config.class, c, properties);
        String p = v.required("path", c.path(), "data/signalbox.sock");
        String m = ConfigValues.unquote(c.mode()).trim();
        int mode = 0;
        if (!OCTAL.matcher(m).matches()) {
            v.problem("'mode' must be octal permission bits like 0660, is \"" + m + "\"");
        } else {
            mode = Integer.parseInt(m, 8);
            v.check((mode & 0600) == 0600, "'mode' must let the owner read and write (0600 at least), is " + m);
        }
        String group = ConfigValues.unquote(c.group()).trim();
        UdsSettings s = new UdsSettings(p.isEmpty() ? null : Path.of(p).toAbsolutePath().normalize(), mode, group,
                v.atLeast("max.line.length", c.max_line_length(), 1),
                v.atLeast("max.connections", c.max_connections(), 1),
                v.atLeast("idle.timeout.seconds", c.idle_timeout_seconds(), 0),
                v.atLeast("shutdown.drain.ms", c.shutdown_drain_ms(), 0),
                SharedSecrets.configured(v, c.auth_secret(), c.auth_secret_file(), c.auth_sources()),
                v.atLeast("evict.after.seconds", c.evict_after_seconds(), 0));
        v.done();
        return s;
    }

    /** {@code 0660}. */
    String octalMode() {
        return String.format("0%o", mode);
    }

    @Override
    public String toString() {
        return "path=" + path + ", mode=" + octalMode() + (group.isEmpty() ? "" : ", group=" + group)
                + ", max.line.length=" + maxLineLength + ", max.connections=" + maxConnections
                + ", evict.after.seconds=" + evictAfterSeconds
                + ", idle.timeout.seconds=" + idleTimeoutSeconds + ", shutdown.drain.ms=" + shutdownDrainMs
                + ", auth: " + secrets;
    }
}
