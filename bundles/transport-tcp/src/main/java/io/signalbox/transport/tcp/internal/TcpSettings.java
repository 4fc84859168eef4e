package io.signalbox.transport.tcp.internal;

import java.util.Map;

import io.signalbox.api.ConfigValues;
import io.signalbox.protocol.PemTls;
import io.signalbox.protocol.SharedSecrets;

/**
 * The TCP transport's configuration, checked once ({@link #of}) and then used as it is.
 *
 * @param host               address to listen on (unquoted)
 * @param port               TCP port, 0 for any free one
 * @param maxLineLength      longest accepted line in bytes, without its newline
 * @param maxConnections     open connections allowed at once
 * @param idleTimeoutSeconds close a connection silent this long (0 = never)
 * @param ioThreads          I/O threads as configured (0 = one per core, see {@link #threads()})
 * @param shutdownDrainMs    on shutdown, at most this long to read what clients already sent
 * @param secrets            what a connection must present in its hello ({@link SharedSecrets#NONE}: nothing)
 * @param evictAfterSeconds  at max.connections, a connection that delivered nothing for this long is closed
 *                           to make room for a new one
 * @param tls                the PEM files of TLS, {@code null} for plain TCP
 * @param tlsReloadSeconds   how often the PEM files are checked for a change
 */
record TcpSettings(String host, int port, int maxLineLength, int maxConnections, int idleTimeoutSeconds,
        int ioThreads, long shutdownDrainMs, SharedSecrets secrets, int evictAfterSeconds, PemTls tls,
        int tlsReloadSeconds) {

    /**
     * The settings of {@code c}.
     *
     * @throws io.signalbox.api.ConfigCheck.Rejected naming every problem (unknown keys, types, ranges)
     */
    static TcpSettings of(TcpTransport.Config c, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(TcpTransport.Config.class, c, properties);
        TcpSettings s = new TcpSettings(
                v.required("host", c.host(), "127.0.0.1"),
                v.range("port", c.port(), 0, 65535),
                v.atLeast("max.line.length", c.max_line_length(), 1),
                v.atLeast("max.connections", c.max_connections(), 1),
                v.atLeast("idle.timeout.seconds", c.idle_timeout_seconds(), 0),
                v.atLeast("io.threads", c.io_threads(), 0),
                v.atLeast("shutdown.drain.ms", c.shutdown_drain_ms(), 0),
                SharedSecrets.configured(v, c.auth_secret(), c.auth_secret_file(), c.auth_sources()),
                v.atLeast("evict.after.seconds", c.evict_after_seconds(), 0),
                tls(v, c),
                v.atLeast("tls.reload.seconds", c.tls_reload_seconds(), 1));
        v.done();
        return s;
    }

    /**
     * The PEM files when {@code tls.enabled=true}: {@code tls.cert} and {@code tls.key} are required,
     * {@code tls.ca} turns on client-certificate verification; the files are loaded once here so that
     * a configuration naming a missing or wrong file is rejected with the reason.
     */
    static PemTls tls(ConfigValues v, TcpTransport.Config c) {
        return PemTls.of(v, c.tls_enabled(), ConfigValues.unquote(c.tls_cert()).trim(),
                ConfigValues.unquote(c.tls_key()).trim(), ConfigValues.unquote(c.tls_ca()).trim());
    }

    /** Whether the address is reachable from other hosts: anything but a loopback name or address. */
    boolean loopback() {
        String h = host.trim();
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]")
                || h.equals("0:0:0:0:0:0:0:1");
    }

    /** I/O threads to start: {@code io.threads}, or one per available core. */
    int threads() {
        return ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    }

    /** Whether {@code other} listens on the same configured address. */
    boolean sameAddress(TcpSettings other) {
        return host.equals(other.host) && port == other.port;
    }

    /** The settings that apply to connections, for the log (the address is logged as bound). */
    String limits(int threads) {
        return "max.line.length=" + maxLineLength + ", max.connections=" + maxConnections
                + ", evict.after.seconds=" + evictAfterSeconds
                + ", idle.timeout.seconds=" + idleTimeoutSeconds + ", io.threads=" + threads
                + ", shutdown.drain.ms=" + shutdownDrainMs + ", auth: " + secrets
                + (tls == null ? ", tls: off" : ", tls: cert=" + tls.cert() + " key=" + tls.key()
                        + (tls.mutual() ? " client certificates required, ca=" + tls.ca() : "")
                        + " reload.seconds=" + tlsReloadSeconds);
    }

    @Override
    public String toString() {
        return "host=" + host + ", port=" + port + ", " + limits(ioThreads);
    }
}
