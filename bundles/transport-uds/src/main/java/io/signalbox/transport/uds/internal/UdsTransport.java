package io.signalbox.transport.uds.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Ingest;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.LineIngest;
import io.signalbox.protocol.RejectCounters;

/**
 * The Unix domain socket ingest endpoint: the same protocol, authentication and ingest path as
 * the TCP transport (the shared {@link LineIngest} of {@code io.signalbox.protocol}), on a socket
 * file whose mode and group restrict who may connect. Java 17 NIO ({@code StandardProtocolFamily.UNIX});
 * MINA has no Unix domain sockets.
 *
 * <p>The peer's user and group ({@code SO_PEERCRED}) are kept on the connection, shown in its log
 * lines and, per source, in {@code /api/sources} ({@code uds_peer_uid}, {@code uds_peer_gid} of
 * the connection that last sent as that source).
 */
@Component(name = UdsTransport.PID, configurationPid = UdsTransport.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = StatsSource.class, immediate = true)
@Designate(ocd = UdsTransport.Config.class)
public final class UdsTransport implements StatsSource {
    /** Configuration PID (stable: deployed config files name it). */
    public static final String PID = "io.signalbox.transport.uds";

    static final long DRAIN_QUIET_MS = 200;
    /** Sources whose peer is remembered for /api/sources; beyond that new sources are not shown. */
    static final int MAX_PEER_SOURCES = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(UdsTransport.class);

    @ObjectClassDefinition(name = "Signalbox Unix domain socket transport",
            description = "Accepts protocol v1 lines (one JSON object per line) on a Unix domain socket file.")
    public @interface Config {
        @AttributeDefinition(description = "Socket file; relative paths are resolved against the distribution folder.") String path() default "data/signalbox.sock";
        @AttributeDefinition(description = "Permission bits of the socket file, octal (who may connect).") String mode() default "0660";
        @AttributeDefinition(description = "Group of the socket file; empty keeps the sidecar's group.") String group() default "";
        @AttributeDefinition(description = "Longest accepted line in bytes, without its newline.", min = "1") int max_line_length() default 65536;
        @AttributeDefinition(description = "Open connections allowed at once; further ones get an error line and are closed.", min = "1") int max_connections() default 100;
        @AttributeDefinition(description = "Close a connection that sent nothing for this many seconds (0 = never).", min = "0") int idle_timeout_seconds() default 300;
        @AttributeDefinition(description = "On shutdown, at most this many ms to read what clients already sent.", min = "0") long shutdown_drain_ms() default 2000;
        @AttributeDefinition(description = "Shared secret every connection must present in its hello line; use ${env:NAME}.", type = AttributeType.PASSWORD) String auth_secret() default "";
        @AttributeDefinition(description = "File with more secrets, one per line: '<secret> [<source glob>]'.") String auth_secret_file() default "";
        @AttributeDefinition(description = "Sources the auth.secret may send as (glob).") String auth_sources() default "*";
        @AttributeDefinition(description = "At max.connections, the open connection that delivered nothing for the longest time, "
                + "at least this many seconds, is closed to make room; else the new one is refused.", min = "0") int evict_after_seconds() default 10;
    }

    final UdsStats stats = new UdsStats();
    private final RejectCounters rejects = new RejectCounters();
    private final LineIngest lines;
    private final Set<UdsConnection> connections = ConcurrentHashMap.newKeySet();
    private final Map<String, PeerCredentials> peersBySource = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watchdog;
    private final LogLimiter refusedLog = new LogLimiter();
    private final AtomicLong ids = new AtomicLong();
    private volatile UdsSettings settings;
    private volatile Listener current;

    /** One bound socket file and the thread that accepts on it. */
    private record Listener(ServerSocketChannel server, UdsSettings settings, Thread acceptor) {
    }

    @Activate
    public UdsTransport(Config config, Map<String, Object> properties, @Reference(name = "ingest") Ingest ingest)
            throws IOException {
        UdsSettings s = ConfigCheck.activate(LOG, PID, properties, () -> UdsSettings.of(config, properties));
        this.lines = new LineIngest("uds", ingest, new LineDecoder(), rejects);
        lines.secrets(s.secrets());
        this.settings = s;
        this.current = listen(s);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "signalbox-uds-idle");
            t.setDaemon(true);
            return t;
        });
        watchdog.scheduleWithFixedDelay(this::closeIdle, 1, 1, TimeUnit.SECONDS);
        LOG.info("Unix domain socket transport listening on {} ({})", s.path(), s);
    }

    /** Without the raw properties (tests): values are checked, keys are not. */
    public UdsTransport(Config config, Ingest ingest) throws IOException {
        this(config, Map.of(), ingest);
    }

    private Listener listen(UdsSettings s) throws IOException {
        ServerSocketChannel server;
        try {
            server = SocketFile.bind(s);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + s.path() + ": " + e.getMessage(), e);
        }
        Thread t = new Thread(() -> accept(server), "signalbox-uds-accept");
        t.setDaemon(true);
        Listener l = new Listener(server, s, t);
        t.start();
        return l;
    }

    private void accept(ServerSocketChannel server) {
        while (server.isOpen()) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (AsynchronousCloseException e) {
                return; // stopped accepting
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.warn("Accepting on the Unix domain socket failed: {}", e.toString());
                continue;
            }
            opened(ch);
        }
    }

    private void opened(SocketChannel ch) {
        UdsSettings s = settings;
        PeerCredentials peer = PeerCredentials.of(ch);
        String name = "uds#" + ids.incrementAndGet() + " " + peer;
        int active = stats.active.incrementAndGet();
        if (active > s.maxConnections() && evictStalest(s, name)) {
            active = stats.active.get();
        } else if (active > s.maxConnections()) {
            stats.active.decrementAndGet();
            stats.refused.increment();
            long suppressed = refusedLog.acquire();
            if (suppressed >= 0) {
                LOG.warn("Refused connection {}: max.connections={} reached ({} more refusals suppressed)", name,
                        s.maxConnections(), suppressed);
            }
            writeAndClose(ch, LineIngest.errorLine("refused", "max_connections",
                    "max.connections=" + s.maxConnections() + " reached, try again later"));
            return;
        }
        stats.accepted.increment();
        UdsConnection c = new UdsConnection(ch, peer, name, lines.open(name, s.maxLineLength()), this);
        connections.add(c);
        Thread t = new Thread(c, "signalbox-uds-" + ids.get());
        t.setDaemon(true);
        t.start();
        LOG.debug("Connection {} opened ({} active)", name, active);
    }

    /**
     * At max.connections: closes the connection that delivered nothing for the longest time, if that
     * is at least {@code evict.after.seconds}, telling it why; its slot goes to the newcomer.
     */
    private boolean evictStalest(UdsSettings s, String incoming) {
        for (int attempt = 0; attempt < 3; attempt++) {
            UdsConnection stalest = null;
            for (UdsConnection c : connections) {
                if (stalest == null || c.lines().lastProgress() < stalest.lines().lastProgress()) {
                    stalest = c;
                }
            }
            long quiet = stalest == null ? 0 : System.currentTimeMillis() - stalest.lines().lastProgress();
            if (stalest == null || quiet < s.evictAfterSeconds() * 1000L) {
                return false;
            }
            if (connections.remove(stalest)) {
                stats.active.decrementAndGet(); // its slot is the newcomer's
                stats.evicted.increment();
                long suppressed = refusedLog.acquire();
                if (suppressed >= 0) {
                    LOG.warn("max.connections={} reached: closed {}, which delivered nothing for {} ms, to accept {}"
                            + " ({} more suppressed)", s.maxConnections(), stalest, quiet, incoming, suppressed);
                }
                stalest.evict(LineIngest.errorLine("refused", "evicted", "max.connections=" + s.maxConnections()
                        + " reached: this connection delivered nothing for the longest time and was closed"));
                return true;
            }
        }
        return false;
    }

    /** Writes {@code line} (best effort: the peer may be gone) and closes {@code ch}. */
    void writeAndClose(SocketChannel ch, byte[] line) {
        try (ch) {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.shutdownOutput();
        } catch (IOException e) {
            LOG.debug("Could not tell a refused Unix domain socket peer why: {}", e.toString());
        }
    }

    void closed(UdsConnection c) {
        c.close();
        if (connections.remove(c)) {
            int active = stats.active.decrementAndGet();
            LOG.debug("Connection {} closed ({} active)", c, active);
        }
    }

    /** Remembers which peer last sent as {@code source}, for /api/sources. */
    void sawSource(String source, PeerCredentials peer) {
        if (source != null && peer.uid() >= 0 && !peer.equals(peersBySource.get(source))
                && (peersBySource.size() < MAX_PEER_SOURCES || peersBySource.containsKey(source))) {
            peersBySource.put(source, peer);
        }
    }

    Ingest ingest() {
        return lines.ingest();
    }

    LineIngest lines() {
        return lines;
    }

    Path path() {
        return current.settings().path();
    }

    int open() {
        return connections.size();
    }

    private void closeIdle() {
        int idle = settings.idleTimeoutSeconds();
        if (idle <= 0) {
            return;
        }
        long now = System.currentTimeMillis();
        for (UdsConnection c : connections) {
            if (c.quietFor(TimeUnit.SECONDS.toMillis(idle), now)) {
                LOG.debug("Closing idle connection {}", c);
                c.close();
            }
        }
    }

    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        reconfigure(config, properties);
    }

    /**
     * A changed configuration, applied live if valid. A new path is bound first, then the old
     * socket file stops accepting and is removed (its open connections continue); a new mode or
     * group is applied to the socket file in place; the other settings apply to new connections.
     */
    synchronized boolean reconfigure(Config config, Map<String, ?> properties) {
        UdsSettings s = ConfigCheck.modify(LOG, PID, properties, () -> UdsSettings.of(config, properties), settings);
        if (s == null) {
            return false;
        }
        Listener old = current;
        if (!s.path().equals(old.settings().path())) {
            Listener next;
            try {
                next = listen(s);
            } catch (IOException e) {
                LOG.error("{}; the previous configuration stays in force, still listening on {}",
                        ConfigCheck.rejection(PID, properties, e.getMessage()), old.settings().path());
                return false;
            }
            current = next;
            stop(old);
            LOG.info("Unix domain socket transport moved from {} to {} ({})", old.settings().path(), s.path(), s);
        } else if (s.mode() != old.settings().mode() || !s.group().equals(old.settings().group())) {
            try {
                Files.setPosixFilePermissions(s.path(), SocketFile.permissions(s.mode()));
                if (!s.group().isEmpty()) {
                    Files.getFileAttributeView(s.path(), java.nio.file.attribute.PosixFileAttributeView.class)
                            .setGroup(s.path().getFileSystem().getUserPrincipalLookupService()
                                    .lookupPrincipalByGroupName(s.group()));
                }
            } catch (IOException e) {
                LOG.error("{}; the previous configuration stays in force",
                        ConfigCheck.rejection(PID, properties, "cannot set mode/group of " + s.path() + ": " + e));
                return false;
            }
            current = new Listener(old.server(), s, old.acceptor());
            LOG.info("Unix domain socket transport on {} reconfigured ({})", s.path(), s);
        } else {
            current = new Listener(old.server(), s, old.acceptor());
            LOG.info("Unix domain socket transport on {} reconfigured for new connections ({})", s.path(), s);
        }
        lines.secrets(s.secrets());
        settings = s;
        return true;
    }

    /** Stops accepting on {@code l} and removes its socket file if it is still a socket. */
    private void stop(Listener l) {
        try {
            l.server().close();
        } catch (IOException e) {
            LOG.debug("Closing {}: {}", l.settings().path(), e.toString());
        }
        try {
            l.acceptor().join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (SocketFile.isSocket(l.settings().path())) {
                Files.delete(l.settings().path());
            }
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            LOG.warn("Could not remove the socket file {}: {}", l.settings().path(), e.toString());
        }
    }

    /**
     * Graceful stop: no new connections, the socket file is removed; open connections are read until
     * their clients close them or they have been quiet for {@value #DRAIN_QUIET_MS} ms (and that long
     * has passed since the stop began), for at most {@code shutdown.drain.ms}.
     */
    @Deactivate
    synchronized void deactivate() {
        stop(current);
        watchdog.shutdownNow();
        long drain = settings.shutdownDrainMs();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drain);
        long drainStart = System.currentTimeMillis();
        int forced = 0;
        boolean interrupted = false;
        while (!connections.isEmpty()) {
            boolean late = System.nanoTime() - deadline >= 0;
            long now = System.currentTimeMillis();
            // a reader thread that was not scheduled yet gets DRAIN_QUIET_MS after the stop began to
            // read what its client had sent, however long the connection was quiet before
            boolean settled = now - drainStart >= DRAIN_QUIET_MS;
            for (UdsConnection c : new ArrayList<>(connections)) {
                boolean quiet = settled && c.quietFor(DRAIN_QUIET_MS, now);
                if (late || quiet) {
                    if (!quiet) {
                        forced++;
                    }
                    c.close();
                }
            }
            if (late) {
                break;
            }
            try {
                Thread.sleep(10); // polling the connections' read times; shutdown only
            } catch (InterruptedException e) {
                interrupted = true;
                break;
            }
        }
        if (forced > 0) {
            LOG.warn("{} Unix domain socket connection(s) still sending after shutdown.drain.ms={}: closed", forced, drain);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        LOG.info("Unix domain socket transport on {} stopped: {} messages received, {} dropped, {} connections accepted",
                current.settings().path(), lines.received(), rejects.total(), stats.accepted.sum());
    }

    @Override
    public void collect(MetricsSink sink) {
        stats.collect(sink);
        rejects.collect(sink);
        lines.collect(sink);
        for (Map.Entry<String, PeerCredentials> e : peersBySource.entrySet()) {
            sink.gauge("signalbox_uds_peer_uid", e.getValue().uid(), "source", e.getKey());
            sink.gauge("signalbox_uds_peer_gid", e.getValue().gid(), "source", e.getKey());
        }
    }

    /** For tests: the connections open now. */
    List<UdsConnection> connections() {
        return new ArrayList<>(connections);
    }
}
