package io.signalbox.transport.tcp.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.mina.core.session.IdleStatus;
import org.apache.mina.core.session.IoSession;
import org.apache.mina.transport.socket.SocketSessionConfig;
import org.apache.mina.transport.socket.nio.NioSocketAcceptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


import io.signalbox.api.Ingest;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.RejectCounters;

/**
 * The TCP ingest endpoint: a MINA {@link NioSocketAcceptor} whose {@link LineHandler} frames and
 * decodes protocol v1 lines on the I/O threads and offers them to {@link Ingest}.
 *
 * <p>Runs only when configured ({@code etc/io.signalbox.transport.tcp.cfg} ships with the
 * distribution). A configuration change re-creates the component: open connections are drained
 * as on shutdown, then the acceptor binds again.
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

    @ObjectClassDefinition(name = "Signalbox TCP transport",
            description = "Accepts protocol v1 lines (one JSON object per line) over TCP.")
    public @interface Config {
        @AttributeDefinition(description = "Address to listen on; 0.0.0.0 for every interface.")
        String host() default "127.0.0.1";

        @AttributeDefinition(description = "TCP port (0 = any free port).", min = "0", max = "65535")
        int port() default 17000;

        @AttributeDefinition(description = "Longest accepted line in bytes, without its newline; longer lines are dropped as too_long.", min = "1")
        int max_line_length() default 65536;

        @AttributeDefinition(description = "Open connections allowed at once; further ones are closed at once and counted.", min = "1")
        int max_connections() default 100;

        @AttributeDefinition(description = "Close a connection that sent nothing for this many seconds (0 = never).", min = "0")
        int idle_timeout_seconds() default 300;

        @AttributeDefinition(description = "I/O threads (0 = one per available core).", min = "0")
        int io_threads() default 0;

        @AttributeDefinition(description = "On shutdown, at most this many ms to read what clients already sent.", min = "0")
        long shutdown_drain_ms() default 2000;
    }

    private final NioSocketAcceptor acceptor;
    private final RejectCounters rejects = new RejectCounters();
    private final TcpStats stats = new TcpStats();
    private final long drainMs;
    private final InetSocketAddress bound;

    /** Binds at once; the component is active when the port is open. */
    @Activate
    public TcpTransport(Config config, @Reference(name = "ingest") Ingest ingest) throws IOException {
        validate(config);
        int threads = config.io_threads() > 0 ? config.io_threads() : Runtime.getRuntime().availableProcessors();
        this.drainMs = config.shutdown_drain_ms();
        LineHandler handler = new LineHandler(ingest, new LineDecoder(), rejects, stats,
                config.max_line_length(), config.max_connections());
        NioSocketAcceptor a = new NioSocketAcceptor(threads);
        a.setReuseAddress(true);
        a.setCloseOnDeactivation(false); // unbind keeps open connections: shutdown drains them
        a.setBacklog(Math.max(50, config.max_connections()));
        SocketSessionConfig session = a.getSessionConfig();
        session.setReadBufferSize(INITIAL_READ_BUFFER);
        session.setTcpNoDelay(true);
        if (config.idle_timeout_seconds() > 0) {
            session.setIdleTime(IdleStatus.READER_IDLE, config.idle_timeout_seconds());
        }
        a.setHandler(handler);
        try {
            a.bind(new InetSocketAddress(config.host(), config.port()));
        } catch (IOException | RuntimeException e) {
            a.dispose(true);
            throw new IOException("Cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        this.acceptor = a;
        this.bound = a.getLocalAddress();
        LOG.info("TCP transport listening on {}:{} (max.line.length={}, max.connections={}, "
                + "idle.timeout.seconds={}, io.threads={}, shutdown.drain.ms={})",
                bound.getHostString(), bound.getPort(), config.max_line_length(), config.max_connections(),
                config.idle_timeout_seconds(), threads, drainMs);
    }

    private static void validate(Config c) {
        require(c.port() >= 0 && c.port() <= 65535, "port must be 0..65535, is " + c.port());
        require(c.max_line_length() > 0, "max.line.length must be > 0, is " + c.max_line_length());
        require(c.max_connections() > 0, "max.connections must be > 0, is " + c.max_connections());
        require(c.idle_timeout_seconds() >= 0, "idle.timeout.seconds must be >= 0, is " + c.idle_timeout_seconds());
        require(c.io_threads() >= 0, "io.threads must be >= 0, is " + c.io_threads());
        require(c.shutdown_drain_ms() >= 0, "shutdown.drain.ms must be >= 0, is " + c.shutdown_drain_ms());
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(PID + ": " + problem);
        }
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    int port() {
        return bound.getPort();
    }

    /** The sessions currently open, for tests. */
    Collection<IoSession> sessions() {
        return acceptor.getManagedSessions().values();
    }

    /**
     * Graceful stop: no new connections; open ones are read until their clients close them or
     * they have been quiet for {@value #DRAIN_QUIET_MS} ms, for at most {@code shutdown.drain.ms};
     * a last line without newline is decoded when its connection closes. Then the I/O threads end.
     */
    @Deactivate
    void deactivate() {
        acceptor.unbind();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMs);
        int forced = 0;
        boolean interrupted = false;
        while (!acceptor.getManagedSessions().isEmpty()) {
            boolean late = System.nanoTime() - deadline >= 0;
            long now = System.currentTimeMillis();
            for (IoSession s : acceptor.getManagedSessions().values()) {
                if (s.isClosing()) {
                    continue;
                }
                Connection c = LineHandler.connection(s);
                boolean quiet = c == null || c.quietFor(DRAIN_QUIET_MS, now);
                if (late || quiet) {
                    if (!quiet) {
                        forced++;
                    }
                    s.closeNow();
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
            LOG.warn("{} connection(s) still sending after shutdown.drain.ms={}: closed", forced, drainMs);
        }
        acceptor.dispose(true);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        LOG.info("TCP transport on port {} stopped: {} messages received, {} dropped, {} connections accepted",
                bound.getPort(), stats.received.sum(), rejects.total(), stats.accepted.sum());
    }

    @Override
    public Map<String, Number> stats() {
        Map<String, Number> out = new LinkedHashMap<>();
        stats.addTo(out);
        rejects.addTo(out);
        return out;
    }
}
