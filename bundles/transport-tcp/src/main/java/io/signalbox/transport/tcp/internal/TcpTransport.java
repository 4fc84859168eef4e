package io.signalbox.transport.tcp.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.mina.core.future.WriteFuture;
import org.apache.mina.core.service.IoService;
import org.apache.mina.core.service.IoServiceListener;
import org.apache.mina.core.session.IdleStatus;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.SocketSessionConfig;
import org.apache.mina.transport.socket.nio.NioSocketAcceptor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.util.tracker.ServiceTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Ingest;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.LineIngest;
import io.signalbox.protocol.RejectCounters;

/**
 * The TCP ingest endpoint: a MINA {@link NioSocketAcceptor} whose {@link LineHandler} frames and
 * decodes protocol v1 lines on the I/O threads and offers them to {@link Ingest}.
 *
 * <p>Runs only when configured ({@code etc/io.signalbox.transport.tcp.cfg} ships with the
 * distribution). The whole configuration is checked before it takes effect ({@link TcpSettings});
 * a rejected one is logged and counted, and the component does not start ({@link ConfigCheck}).
 * A change is applied live ({@link #modified}): a new address is bound before the old one stops
 * accepting, and the connections open on the old one continue.
 */
@Component(name = TcpTransport.PID, configurationPid = TcpTransport.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = StatsSource.class,
        immediate = true) // it provides a service, so DS would otherwise delay it until someone reads the stats
@Designate(ocd = TcpTransport.Config.class)
public final class TcpTransport implements StatsSource {
    /** Configuration PID (stable: deployed config files name it). */
    public static final String PID = "io.signalbox.transport.tcp";

    /** A connection that read nothing for this long is considered finished during shutdown. */
    static final long DRAIN_QUIET_MS = 200;

    private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);
    private static final int INITIAL_READ_BUFFER = 16 * 1024;

    @ObjectClassDefinition(name = "Signalbox TCP transport", description = "Accepts protocol v1 lines (one JSON object per line) over TCP.")
    public @interface Config {
        @AttributeDefinition(description = "Address to listen on; 0.0.0.0 for every interface.") String host() default "127.0.0.1";
        @AttributeDefinition(description = "TCP port (0 = any free port).", min = "0", max = "65535") int port() default 17000;
        @AttributeDefinition(description = "Longest accepted line in bytes, without its newline; longer lines are dropped as too_long.", min = "1") int max_line_length() default 65536;
        @AttributeDefinition(description = "Open connections allowed at once; further ones are closed at once and counted.", min = "1") int max_connections() default 100;
        @AttributeDefinition(description = "Close a connection that sent nothing for this many seconds (0 = never).", min = "0") int idle_timeout_seconds() default 300;
        @AttributeDefinition(description = "I/O threads (0 = one per available core).", min = "0") int io_threads() default 0;
        @AttributeDefinition(description = "On shutdown, at most this many ms to read what clients already sent.", min = "0") long shutdown_drain_ms() default 2000;
        @AttributeDefinition(description = "Shared secret every connection must present in its hello line (docs/protocol.md); "
                + "use ${env:NAME}. Empty: no authentication.", type = AttributeType.PASSWORD) String auth_secret() default "";
        @AttributeDefinition(description = "File with more secrets, one per line: '<secret> [<source glob>]'.") String auth_secret_file() default "";
        @AttributeDefinition(description = "Sources the auth.secret may send as (glob, e.g. billing-*).") String auth_sources() default "*";
        @AttributeDefinition(description = "At max.connections, the open connection that delivered nothing for the longest time, "
                + "at least this many seconds, is closed to make room; else the new one is refused.", min = "0") int evict_after_seconds() default 10;
        @AttributeDefinition(description = "TLS (1.2+) on this port, with tls.cert and tls.key.") boolean tls_enabled() default false;
        @AttributeDefinition(description = "PEM file: the server certificate, then its intermediates.") String tls_cert() default "";
        @AttributeDefinition(description = "PEM file: the server's private key (PKCS#8, unencrypted).") String tls_key() default "";
        @AttributeDefinition(description = "PEM file: CA certificates client certificates must chain to; set = clients must present one (mTLS).") String tls_ca() default "";
        @AttributeDefinition(description = "How often the PEM files are checked; a change is loaded for new connections.", min = "1") int tls_reload_seconds() default 10;
    }

    private final RejectCounters rejects = new RejectCounters();
    private final TcpStats stats = new TcpStats();
    private final LineIngest lines;
    /** The HTTP address, for redirecting HTTP requests sent here; {@code null} outside the framework. */
    private ServiceTracker<Object, Object> httpEndpoint;
    private final LineHandler handler;
    static final String TLS_FILTER = "tls";
    /** The protocols offered when client certificates are required. */
    static final String[] MUTUAL_PROTOCOLS = { "TLSv1.2" };
    /** The TLS material in force and the stamp of its files. */
    private record TlsState(String stamp, javax.net.ssl.SSLContext context) {
    }

    private volatile TlsState tlsState;
    private final java.util.concurrent.ScheduledExecutorService tlsWatch = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "signalbox-tcp-tls-reload");
                t.setDaemon(true);
                return t;
            });
    private volatile java.util.concurrent.ScheduledFuture<?> tlsPoll;

    /** The listener that accepts new connections. Replaced (never mutated) by a move. */
    private volatile Listener current;
    /** Listeners that stopped accepting after a move; they end when their last connection closes. */
    private final List<Listener> retired = new CopyOnWriteArrayList<>();
    private final List<Thread> disposers = new CopyOnWriteArrayList<>();
    /** The configuration in force. */
    private volatile TcpSettings settings;

    /** One bound acceptor, the settings it was bound with and the address it got. */
    private record Listener(NioSocketAcceptor acceptor, TcpSettings settings, int threads, InetSocketAddress bound) {
        @Override
        public String toString() {
            return bound.getHostString() + ":" + bound.getPort();
        }
    }

    /**
     * Checks the whole configuration (unknown keys, types, ranges) and binds; the component is
     * active when the port is open. A rejected configuration is logged at ERROR with the reason,
     * counted, and the component does not start.
     */
    @Activate
    public TcpTransport(Config config, Map<String, Object> properties, @Reference(name = "ingest") Ingest ingest,
            BundleContext context) throws IOException {
        this(config, properties, ingest);
        this.httpEndpoint = HttpEndpoint.track(context, lines::httpEndpoint);
    }

    /** Without the framework (tests): an HTTP request on the port is answered 400, not redirected. */
    public TcpTransport(Config config, Map<String, Object> properties, Ingest ingest) throws IOException {
        TcpSettings s = ConfigCheck.activate(LOG, PID, properties, () -> TcpSettings.of(config, properties));
        this.lines = new LineIngest("tcp", ingest, new LineDecoder(), rejects);
        lines.secrets(s.secrets());
        ReadBuffers readBuffers = ReadBuffers.install();
        this.handler = new LineHandler(lines, stats, s.maxLineLength(), s.maxConnections(), s.evictAfterSeconds(),
                readBuffers);
        this.settings = s;
        try {
            this.current = listen(s);
        } catch (IOException | RuntimeException e) {
            ReadBuffers.uninstall();
            throw e;
        }
        LOG.info("TCP transport listening on {} ({})", current, s.limits(current.threads()));
        warnIfExposed(s);
        watchTls(s);
    }

    /** Without the raw properties (tests, benchmarks): values are checked, keys are not. */
    public TcpTransport(Config config, Ingest ingest) throws IOException {
        this(config, Map.of(), ingest);
    }

    /**
     * Said at every start and move: an address other hosts can reach, without a secret, lets
     * anyone on the network write as any source; without TLS the secret and the data travel in clear.
     */
    private static void warnIfExposed(TcpSettings s) {
        if (s.loopback()) {
            return;
        }
        if (!s.secrets().enabled()) {
            LOG.warn("TCP transport listens on {}:{}, reachable beyond this host, without auth.secret{}: anyone who"
                    + " can reach it can send as any source (see README, Security)", s.host(), s.port(),
                    s.tls() == null ? " and without TLS" : "");
        } else if (s.tls() == null) {
            LOG.warn("TCP transport listens on {}:{}, reachable beyond this host, without TLS: the secret and every"
                    + " message cross the network in clear (see README, Security)", s.host(), s.port());
        }
    }

    /** Puts the TLS filter of {@code s} into {@code a}'s chain (new connections), or takes it out. */
    private void applyTls(NioSocketAcceptor a, TcpSettings s) throws IOException {
        boolean present = a.getFilterChain().contains(TLS_FILTER);
        if (s.tls() == null) {
            if (present) {
                a.getFilterChain().remove(TLS_FILTER);
            }
            tlsState = null;
            return;
        }
        try {
            TlsState t = new TlsState(s.tls().stamp(), s.tls().context());
            org.apache.mina.filter.ssl.SslFilter f = sslFilter(t.context(), s.tls());
            if (present) {
                a.getFilterChain().replace(TLS_FILTER, f);
            } else {
                a.getFilterChain().addFirst(TLS_FILTER, f);
            }
            tlsState = t;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("TLS: " + e.getMessage(), e);
        }
    }

    private static org.apache.mina.filter.ssl.SslFilter sslFilter(javax.net.ssl.SSLContext ctx, io.signalbox.protocol.PemTls tls) {
        org.apache.mina.filter.ssl.SslFilter f = new org.apache.mina.filter.ssl.SslFilter(ctx);
        // With client certificates, TLS 1.2 only: under TLS 1.3 the client sends its first lines right
        // behind its certificate, and MINA 2.2.4 runs the certificate check as a delegated task after
        // which it does not decode those already-received bytes until more arrive (seen in TcpTlsTest).
        f.setEnabledProtocols(tls.mutual() ? MUTUAL_PROTOCOLS : io.signalbox.protocol.PemTls.PROTOCOLS);
        f.setNeedClientAuth(tls.mutual());
        return f;
    }

    /** (Re)starts the poll of the PEM files for the settings in force. */
    private void watchTls(TcpSettings s) {
        java.util.concurrent.ScheduledFuture<?> old = tlsPoll;
        if (old != null) {
            old.cancel(false);
        }
        if (s.tls() != null) {
            tlsPoll = tlsWatch.scheduleWithFixedDelay(this::reloadTls, s.tlsReloadSeconds(), s.tlsReloadSeconds(),
                    TimeUnit.SECONDS);
        }
    }

    /**
     * Loads the PEM files again if they changed: new connections get the new certificate (open ones
     * keep theirs). Files caught half-written fail to load: the material in force stays and the next
     * poll tries again.
     */
    synchronized boolean reloadTls() {
        TcpSettings s = settings;
        TlsState t = tlsState;
        if (s.tls() == null || t == null) {
            return false;
        }
        String stamp = s.tls().stamp();
        if (stamp.equals(t.stamp())) {
            return false;
        }
        try {
            TlsState next = new TlsState(stamp, s.tls().context());
            current.acceptor().getFilterChain().replace(TLS_FILTER, sslFilter(next.context(), s.tls()));
            tlsState = next;
            LOG.info("TCP transport on {}: TLS certificate reloaded from {} for new connections", current, s.tls().cert());
            return true;
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            LOG.warn("TCP transport on {}: the changed TLS files cannot be loaded ({}); the certificate in force stays,"
                    + " tried again at the next change", current, e.getMessage());
            return false;
        }
    }

    /** A new acceptor bound to the configured address, sharing this transport's handler and counters. */
    private Listener listen(TcpSettings s) throws IOException {
        int threads = s.threads();
        NioSocketAcceptor a = new NioSocketAcceptor(threads);
        a.setReuseAddress(true);
        a.setCloseOnDeactivation(false); // unbind keeps open connections: shutdown and moves drain them
        a.setBacklog(Math.max(50, s.maxConnections()));
        SocketSessionConfig session = a.getSessionConfig();
        session.setReadBufferSize(INITIAL_READ_BUFFER);
        session.setTcpNoDelay(true);
        session.setIdleTime(IdleStatus.READER_IDLE, s.idleTimeoutSeconds());
        a.setHandler(handler);
        try {
            applyTls(a, s);
        } catch (IOException e) {
            a.dispose(true);
            throw e;
        }
        try {
            a.bind(new InetSocketAddress(s.host(), s.port()));
        } catch (IOException | RuntimeException e) {
            a.dispose(true);
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String detail = root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root.getMessage() + ")";
            throw new IOException("cannot listen on " + s.host() + ":" + s.port() + ": " + detail, e);
        }
        return new Listener(a, s, threads, a.getLocalAddress());
    }

    /**
     * A changed configuration, applied live if it is valid, else logged at ERROR and ignored.
     * A new host or port binds the new address first, then stops accepting on the old one; the
     * connections already open there continue until their clients close them. If the new address
     * cannot be bound, the old listener and the whole previous configuration stay in force. The
     * other settings apply to connections opened from now on.
     */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        reconfigure(config, properties);
    }

    /** {@link #modified}, telling whether the configuration was applied. */
    synchronized boolean reconfigure(Config config, Map<String, ?> properties) {
        TcpSettings s = ConfigCheck.modify(LOG, PID, properties, () -> TcpSettings.of(config, properties), settings);
        if (s == null) {
            return false;
        }
        Listener old = current;
        if (!s.sameAddress(old.settings())) {
            Listener next;
            try {
                next = listen(s);
            } catch (IOException e) {
                LOG.error("{}; the previous configuration stays in force, still listening on {}",
                        ConfigCheck.rejection(PID, properties, e.getMessage()), old);
                return false;
            }
            handler.limits(s.maxLineLength(), s.maxConnections(), s.evictAfterSeconds());
            lines.secrets(s.secrets());
            current = next;
            retire(old);
            LOG.info("TCP transport moved from {} to {} ({})", old, next, s.limits(next.threads()));
            warnIfExposed(s);
        } else {
            if (!java.util.Objects.equals(s.tls(), settings.tls())) {
                try {
                    applyTls(old.acceptor(), s);
                } catch (IOException e) {
                    LOG.error("{}; the previous configuration stays in force",
                            ConfigCheck.rejection(PID, properties, e.getMessage()));
                    return false;
                }
            }
            handler.limits(s.maxLineLength(), s.maxConnections(), s.evictAfterSeconds());
            lines.secrets(s.secrets());
            old.acceptor().getSessionConfig().setIdleTime(IdleStatus.READER_IDLE, s.idleTimeoutSeconds());
            if (s.threads() != old.threads()) {
                LOG.warn("io.threads={} takes effect when the transport next moves to another address or restarts;"
                        + " {} I/O threads until then", s.ioThreads(), old.threads());
            }
            LOG.info("TCP transport on {} reconfigured for new connections ({})", old, s.limits(old.threads()));
        }
        settings = s;
        watchTls(s);
        return true;
    }

    /** Stops accepting on {@code l}; it is disposed once its last connection has closed. */
    private void retire(Listener l) {
        retired.add(l);
        l.acceptor().addListener(new IoServiceListener() {
            @Override
            public void sessionDestroyed(IoSession session) {
                if (l.acceptor().getManagedSessionCount() == 0) {
                    dispose(l);
                }
            }

            @Override
            public void serviceActivated(IoService service) {
                // nothing to do: only the end of the last session matters
            }

            @Override
            public void serviceIdle(IoService service, IdleStatus idleStatus) {
                // nothing to do
            }

            @Override
            public void serviceDeactivated(IoService service) {
                // nothing to do
            }

            @Override
            public void sessionCreated(IoSession session) {
                // nothing to do
            }

            @Override
            public void sessionClosed(IoSession session) {
                // nothing to do
            }
        });
        l.acceptor().unbind();
        int open = l.acceptor().getManagedSessionCount();
        LOG.info("TCP transport stopped accepting on {}; {} open connection(s) there continue until their clients"
                + " close them", l, open);
        if (open == 0) {
            dispose(l);
        }
    }

    /** Disposes a retired listener once, on its own thread (not on one of its I/O threads). */
    private void dispose(Listener l) {
        if (retired.remove(l)) {
            Thread t = new Thread(() -> {
                l.acceptor().dispose(true);
                LOG.info("TCP listener on {} closed: its last connection ended", l);
            }, "signalbox-tcp-retire-" + l.bound().getPort());
            t.setDaemon(true);
            disposers.add(t);
            t.start();
        }
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    int port() {
        return current.bound().getPort();
    }

    /** The shared line processing, for tests. */
    LineIngest lines() {
        return lines;
    }

    /** The sessions currently open on every listener, for tests. */
    Collection<IoSession> sessions() {
        List<IoSession> out = new ArrayList<>(current.acceptor().getManagedSessions().values());
        for (Listener l : retired) {
            out.addAll(l.acceptor().getManagedSessions().values());
        }
        return out;
    }

    /**
     * Graceful stop: no new connections; open ones (on the current listener and on listeners
     * retired by a move) are read until their clients close them or they have been quiet for
     * {@value #DRAIN_QUIET_MS} ms, for at most {@code shutdown.drain.ms}; a last line without
     * newline is decoded when its connection closes. Then the I/O threads end. "Quiet" is only
     * trusted once the connection's I/O thread has made a pass after the stop began
     * ({@link Connection#readPass}): an I/O thread busy with another connection would otherwise
     * leave lines its client sent long before in the kernel, and closing would lose them.
     */
    @Deactivate
    synchronized void deactivate() {
        tlsWatch.shutdownNow();
        if (httpEndpoint != null) {
            httpEndpoint.close();
        }
        List<NioSocketAcceptor> acceptors = new ArrayList<>();
        acceptors.add(current.acceptor());
        for (Listener l : retired) {
            if (retired.remove(l)) {
                acceptors.add(l.acceptor());
            }
        }
        for (NioSocketAcceptor a : acceptors) {
            a.unbind();
        }
        long drain = settings.shutdownDrainMs();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drain);
        long drainStart = System.currentTimeMillis();
        // per session: the I/O thread's pass that proves what the client sent before the stop was read
        Map<IoSession, WriteFuture> passes = new IdentityHashMap<>();
        int forced = 0;
        boolean interrupted = false;
        while (true) {
            long now = System.currentTimeMillis();
            // a connection the acceptor took just before unbind() reaches the managed sessions a
            // moment later: the drain lasts at least DRAIN_QUIET_MS so that it is drained too
            boolean settled = now - drainStart >= DRAIN_QUIET_MS;
            if (settled && acceptors.stream().allMatch(a -> a.getManagedSessions().isEmpty())) {
                break;
            }
            boolean late = System.nanoTime() - deadline >= 0;
            for (NioSocketAcceptor a : acceptors) {
                for (IoSession s : a.getManagedSessions().values()) {
                    if (s.isClosing()) {
                        continue;
                    }
                    if (late) {
                        forced++;
                        s.closeNow();
                        continue;
                    }
                    Connection c = LineHandler.connection(s);
                    if (c == null) {
                        continue; // still opening (a refused one is already closing)
                    }
                    WriteFuture pass = passes.computeIfAbsent(s, Connection::readPass);
                    // without a pass (TLS), DRAIN_QUIET_MS after the stop began stands in for it
                    boolean passed = pass != null ? pass.isDone() : settled;
                    if (passed && c.quietFor(DRAIN_QUIET_MS, now)) {
                        s.closeNow();
                    }
                }
            }
            if (late) {
                break; // dispose() below closes what is left
            }
            try {
                Thread.sleep(10); // polling the sessions' read times; shutdown only
            } catch (InterruptedException e) {
                interrupted = true;
                break;
            }
        }
        if (forced > 0) {
            LOG.warn("{} connection(s) not drained after shutdown.drain.ms={}: closed", forced, drain);
        }
        for (NioSocketAcceptor a : acceptors) {
            a.dispose(true);
        }
        for (Thread t : disposers) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        ReadBuffers.uninstall();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        LOG.info("TCP transport on {} stopped: {} messages received, {} dropped, {} connections accepted",
                current, lines.received(), rejects.total(), stats.accepted.sum());
    }

    @Override
    public void collect(MetricsSink sink) {
        stats.collect(sink);
        rejects.collect(sink);
        lines.collect(sink);
    }
}
