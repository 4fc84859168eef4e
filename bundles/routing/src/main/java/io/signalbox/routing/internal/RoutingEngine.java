package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendNames;
import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.Router;
import io.signalbox.api.StatsSource;

/**
 * The router: applies the routes in force to every batch and queues the parts on one
 * {@link Channel} per backend name.
 *
 * <p>Routes are {@link RouteDefinition} services (one per {@code io.signalbox.route} factory
 * configuration) tracked with a dynamic, greedy, multiple reference; every change rebuilds an
 * immutable {@link RoutingTable} that is swapped in atomically. Backends are tracked the same
 * way and bound to the channel of their name ({@link BackendNames#of}).
 *
 * <p>While no route at all is configured (e.g. fileinstall has not read {@code etc/} yet),
 * batches are held, not counted as unrouted, and released in order when the first route
 * appears.
 */
@Component(service = { Router.class, StatsSource.class }, configurationPid = RoutingEngine.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = RoutingEngine.Config.class)
public final class RoutingEngine implements Router, StatsSource {
    /** PID of the optional engine configuration. */
    public static final String PID = "io.signalbox.routing";

    private static final Logger LOG = LoggerFactory.getLogger(RoutingEngine.class);

    @ObjectClassDefinition(name = "Signalbox routing",
            description = "Delivery channels of the routing bundle (routes are io.signalbox.route-<name>.cfg).")
    public @interface Config {
        @AttributeDefinition(description = "On shutdown, how long to wait for the channels to write what they hold.")
        long drain_timeout_seconds() default 30;

        @AttributeDefinition(description = "First retry delay after a failed backend write, in ms.")
        long retry_initial_ms() default 100;

        @AttributeDefinition(description = "Longest retry delay (the delay doubles per failure up to this), in ms.")
        long retry_max_ms() default 30_000;

        @AttributeDefinition(description = "Directory of the disk spools (one subdirectory per backend), relative "
                + "to the working directory; a change applies to channels created afterwards (i.e. at the next start).")
        String spool_dir() default "data/spool";

        @AttributeDefinition(description = "Largest spool of one backend, in MiB; when full the oldest segment is "
                + "dropped (counted and logged).")
        long spool_max_mb() default 512;

        @AttributeDefinition(description = "Size of one spool segment file, in MiB.")
        long spool_segment_mb() default 16;

        @AttributeDefinition(description = "When spooled records are forced to disk: always (every batch), interval "
                + "(every spool.fsync.interval.ms) or never (they survive a crash of the sidecar, not a power loss).")
        String spool_fsync() default "interval";

        @AttributeDefinition(description = "For spool.fsync=interval: the longest time a spooled record stays unforced, in ms.")
        long spool_fsync_interval_ms() default 1000;

        @AttributeDefinition(description = "Messages a backend's channel holds in memory; above it (and while the "
                + "backend is absent or its breaker open) batches go to its spool.")
        long channel_queue_messages() default 2000;

        @AttributeDefinition(description = "How long a channel's queue must stay above channel.queue.messages before "
                + "its batches go to the spool, in ms (a backend a few ms behind catches up from memory).")
        long channel_spill_after_ms() default 1000;

        @AttributeDefinition(description = "Consecutive failed writes that open a backend's circuit breaker.")
        int breaker_failures() default 5;

        @AttributeDefinition(description = "Share of failed writes among the last breaker.window writes that opens "
                + "a backend's circuit breaker (0..1; 0 = only breaker.failures in a row count).")
        double breaker_error_rate() default 0.5;

        @AttributeDefinition(description = "Writes the breaker's error rate is measured over (2..64).")
        int breaker_window() default 20;

        @AttributeDefinition(description = "How long an open breaker waits before one probe write, in ms.")
        long breaker_open_ms() default 10_000;

        @AttributeDefinition(description = "Messages per second replayed from a spool after an outage; 0 = no limit.")
        long replay_rate() default 20_000;

        @AttributeDefinition(description = "Directory of the dead-letter files (one subdirectory per backend) for "
                + "batches a backend refuses as invalid; relative to the working directory; applies at the next start.")
        String deadletter_dir() default "data/deadletter";
    }

    private record Held(Batch batch, Runnable delivered) {
    }

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
    private final Object backendLock = new Object();
    // guarded by backendLock: every bound backend and its name, in bind order
    private final Map<Backend, String> boundBackends = new IdentityHashMap<>();
    private final Map<String, List<Backend>> backendsByName = new LinkedHashMap<>();
    // guarded by backendLock: the kind (service property) of the backend bound under each name
    private final Map<String, String> kinds = new java.util.HashMap<>();
    private final java.util.concurrent.CopyOnWriteArrayList<io.signalbox.api.BatchListener> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final LogLimiter listenerLog = new LogLimiter();

    private final Object tableLock = new Object();
    // guarded by tableLock
    // the route in force per configuration component (or per route added in code), in add order
    private final Map<Object, RouteDefinition> routes = new LinkedHashMap<>();
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private volatile RoutingTable table;
    private volatile int heldBatches;

    private final LongAdder unrouted = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LogLimiter unroutedLog = new LogLimiter();
    private final LogLimiter rejectedLog = new LogLimiter();
    private final Channel.Policy channelPolicy = new Channel.Policy() {
        @Override
        public long initialMillis() {
            return retryInitialMillis;
        }

        @Override
        public long maxMillis() {
            return retryMaxMillis;
        }

        @Override
        public long spillAfterMillis() {
            return spillAfterMillis;
        }

        @Override
        public int breakerFailures() {
            return breakerFailures;
        }

        @Override
        public double breakerErrorRate() {
            return breakerErrorRate;
        }

        @Override
        public int breakerWindow() {
            return breakerWindow;
        }

        @Override
        public long breakerOpenMillis() {
            return breakerOpenMillis;
        }

        @Override
        public long queueMessages() {
            return queueMessages;
        }

        @Override
        public long replayRate() {
            return replayRate;
        }
    };

    private final Spool.Limits spoolLimits = new Spool.Limits() {
        @Override
        public long maxBytes() {
            return spoolMaxBytes;
        }

        @Override
        public long segmentBytes() {
            return spoolSegmentBytes;
        }

        @Override
        public Spool.Fsync fsync() {
            return spoolFsync;
        }

        @Override
        public long fsyncIntervalMillis() {
            return spoolFsyncIntervalMillis;
        }
    };

    private volatile long drainTimeoutMillis;
    private volatile long retryInitialMillis;
    private volatile long retryMaxMillis;
    private volatile long spoolMaxBytes;
    private volatile long spoolSegmentBytes;
    private volatile Spool.Fsync spoolFsync;
    private volatile long spoolFsyncIntervalMillis;
    private volatile long queueMessages;
    private volatile long spillAfterMillis;
    private volatile int breakerFailures;
    private volatile long breakerOpenMillis;
    private volatile double breakerErrorRate;
    private volatile int breakerWindow;
    private volatile long replayRate;
    /** Fixed at activation: channels keep the directories they were created with. */
    private final Path spoolDir;
    private final Path deadLetterDir;
    private volatile boolean accepting = true;

    /**
     * Validates the whole configuration first (unknown keys, types, ranges); an invalid one is
     * logged at ERROR and the component does not start. Spools left by a previous run are
     * opened, so they are replayed when their backends appear.
     */
    @Activate
    public RoutingEngine(Config config, Map<String, Object> properties) {
        String problem = problems(config, properties);
        if (problem != null) {
            String message = ConfigCheck.rejection(PID, properties, problem);
            LOG.error("{}", message);
            throw new ConfigCheck.Rejected(message);
        }
        apply(config);
        this.spoolDir = Paths.get(config.spool_dir());
        this.deadLetterDir = Paths.get(config.deadletter_dir());
        this.table = new RoutingTable(List.of(), this::channel);
        LOG.info("routing started: {}", describe());
        openExistingSpools();
    }

    /** Without the raw properties (tests, benchmarks): values are checked, keys are not. */
    public RoutingEngine(Config config) {
        this(config, Map.of());
    }

    /**
     * Applies a changed configuration live, or, if it is invalid, logs why at ERROR and keeps
     * the configuration in force.
     */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        reconfigure(config, properties);
    }

    /** {@link #modified}, telling whether the configuration was applied. */
    boolean reconfigure(Config config, Map<String, ?> properties) {
        String problem = problems(config, properties);
        if (problem != null) {
            LOG.error("{}; the previous configuration stays in force ({})",
                    ConfigCheck.rejection(PID, properties, problem), describe());
            return false;
        }
        apply(config);
        if (!spoolDir.equals(Paths.get(config.spool_dir()))) {
            LOG.warn("spool.dir changed to {}: existing channels keep spooling to {} until the next start",
                    config.spool_dir(), spoolDir);
        }
        if (!deadLetterDir.equals(Paths.get(config.deadletter_dir()))) {
            LOG.warn("deadletter.dir changed to {}: dead letters keep going to {} until the next start",
                    config.deadletter_dir(), deadLetterDir);
        }
        LOG.info("routing reconfigured: {}", describe());
        return true;
    }

    /** Everything wrong with a configuration (keys, types, ranges), or {@code null} if it is valid. */
    static String problems(Config config, Map<String, ?> properties) {
        String keysAndTypes = ConfigCheck.keysAndTypes(Config.class, config, properties);
        if (keysAndTypes != null) {
            return keysAndTypes;
        }
        List<String> out = new ArrayList<>();
        if (config.drain_timeout_seconds() < 0) {
            out.add("drain.timeout.seconds=" + config.drain_timeout_seconds() + " must be at least 0");
        }
        if (config.retry_initial_ms() < 1) {
            out.add("retry.initial.ms=" + config.retry_initial_ms() + " must be at least 1");
        }
        if (config.retry_max_ms() < config.retry_initial_ms()) {
            out.add("retry.max.ms=" + config.retry_max_ms() + " must not be below retry.initial.ms="
                    + config.retry_initial_ms());
        }
        if (config.spool_dir() == null || config.spool_dir().isBlank()) {
            out.add("spool.dir must not be empty");
        }
        if (config.spool_max_mb() < 1 || config.spool_max_mb() > 1L << 30) {
            out.add("spool.max.mb=" + config.spool_max_mb() + " must be between 1 and " + (1L << 30));
        }
        if (config.spool_segment_mb() < 1 || config.spool_segment_mb() > 1024) {
            out.add("spool.segment.mb=" + config.spool_segment_mb() + " must be between 1 and 1024");
        } else if (config.spool_segment_mb() > config.spool_max_mb()) {
            out.add("spool.segment.mb=" + config.spool_segment_mb() + " must not be above spool.max.mb="
                    + config.spool_max_mb());
        }
        if (fsyncOf(config.spool_fsync()) == null) {
            out.add("spool.fsync=" + config.spool_fsync() + " must be one of always, interval, never");
        }
        if (config.spool_fsync_interval_ms() < 1) {
            out.add("spool.fsync.interval.ms=" + config.spool_fsync_interval_ms() + " must be at least 1");
        }
        if (config.channel_queue_messages() < 1) {
            out.add("channel.queue.messages=" + config.channel_queue_messages() + " must be at least 1");
        }
        if (config.channel_spill_after_ms() < 0) {
            out.add("channel.spill.after.ms=" + config.channel_spill_after_ms() + " must be at least 0");
        }
        if (config.breaker_failures() < 1) {
            out.add("breaker.failures=" + config.breaker_failures() + " must be at least 1");
        }
        if (!(config.breaker_error_rate() >= 0 && config.breaker_error_rate() <= 1)) {
            out.add("breaker.error.rate=" + config.breaker_error_rate() + " must be between 0 and 1");
        }
        if (config.breaker_window() < 2 || config.breaker_window() > 64) {
            out.add("breaker.window=" + config.breaker_window() + " must be between 2 and 64");
        }
        if (config.breaker_open_ms() < 1) {
            out.add("breaker.open.ms=" + config.breaker_open_ms() + " must be at least 1");
        }
        if (config.replay_rate() < 0) {
            out.add("replay.rate=" + config.replay_rate() + " must be 0 (no limit) or more");
        }
        if (config.deadletter_dir() == null || config.deadletter_dir().isBlank()) {
            out.add("deadletter.dir must not be empty");
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }

    /** {@code c} must have passed {@link #problems}. */
    private void apply(Config config) {
        this.drainTimeoutMillis = TimeUnit.SECONDS.toMillis(config.drain_timeout_seconds());
        this.retryInitialMillis = config.retry_initial_ms();
        this.retryMaxMillis = config.retry_max_ms();
        this.spoolMaxBytes = config.spool_max_mb() << 20;
        this.spoolSegmentBytes = config.spool_segment_mb() << 20;
        this.spoolFsync = fsyncOf(config.spool_fsync());
        this.spoolFsyncIntervalMillis = config.spool_fsync_interval_ms();
        this.queueMessages = config.channel_queue_messages();
        this.spillAfterMillis = config.channel_spill_after_ms();
        this.breakerFailures = config.breaker_failures();
        this.breakerOpenMillis = config.breaker_open_ms();
        this.breakerErrorRate = config.breaker_error_rate();
        this.breakerWindow = config.breaker_window();
        this.replayRate = config.replay_rate();
    }

    private static Spool.Fsync fsyncOf(String value) {
        if (value == null) {
            return null;
        }
        return switch (value.trim()) {
            case "always" -> Spool.Fsync.ALWAYS;
            case "interval" -> Spool.Fsync.INTERVAL;
            case "never" -> Spool.Fsync.NEVER;
            default -> null;
        };
    }

    /** For tests: {@code retry.initial.ms} and {@code retry.max.ms} in force. */
    long[] backoffPolicyMillis() {
        return new long[] { retryInitialMillis, retryMaxMillis };
    }

    private String describe() {
        return "drain.timeout.seconds=" + drainTimeoutMillis / 1000 + " retry.initial.ms=" + retryInitialMillis
                + " retry.max.ms=" + retryMaxMillis + " spool.dir=" + (spoolDir == null ? "?" : spoolDir.toAbsolutePath())
                + " spool.max.mb=" + (spoolMaxBytes >> 20) + " spool.segment.mb=" + (spoolSegmentBytes >> 20)
                + " spool.fsync=" + String.valueOf(spoolFsync).toLowerCase(java.util.Locale.ROOT)
                + " spool.fsync.interval.ms=" + spoolFsyncIntervalMillis + " channel.queue.messages=" + queueMessages
                + " channel.spill.after.ms=" + spillAfterMillis
                + " breaker.failures=" + breakerFailures + " breaker.error.rate=" + breakerErrorRate
                + " breaker.window=" + breakerWindow + " breaker.open.ms=" + breakerOpenMillis
                + " replay.rate=" + replayRate + " deadletter.dir="
                + (deadLetterDir == null ? "?" : deadLetterDir.toAbsolutePath());
    }

    /** Creates the channel of every backend that has a spool directory with segments in it. */
    private void openExistingSpools() {
        if (!Files.isDirectory(spoolDir)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(spoolDir)) {
            for (Path d : dirs) {
                String dirName = d.getFileName().toString();
                if (!Files.isDirectory(d)) {
                    LOG.warn("ignoring {} in the spool directory: not a backend's spool (left as it is)", d);
                    continue;
                }
                if (!isSpoolDirectoryName(dirName)) {
                    LOG.warn("ignoring {} in the spool directory: not a name Signalbox gives a backend's spool, "
                            + "so nothing in it is replayed (left as it is)", d);
                    continue;
                }
                boolean hasSegments;
                try (DirectoryStream<Path> segs = Files.newDirectoryStream(d, "*" + Spool.SUFFIX)) {
                    hasSegments = segs.iterator().hasNext();
                }
                if (hasSegments) {
                    String name = Spool.backendName(d.getFileName().toString());
                    LOG.info("spool of backend {} found in {}: replayed when the backend is available", name, d);
                    channel(name);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("spool directory {} cannot be listed; spools left by a previous run are not replayed: {}",
                    spoolDir.toAbsolutePath(), e.toString(), e);
        }
    }

    /** Whether {@code name} is a directory name {@link Spool#directoryName} gives some backend. */
    static boolean isSpoolDirectoryName(String name) {
        try {
            return Spool.directoryName(Spool.backendName(name)).equals(name);
        } catch (RuntimeException e) { // a '_' not followed by two hex digits
            return false;
        }
    }

    /**
     * Stops accepting batches, lets every channel write what it holds for up to
     * {@code drain.timeout.seconds}, then stops them and reports what was not delivered.
     */
    @Deactivate
    public void deactivate() {
        accepting = false;
        int heldCount;
        long heldMessages = 0;
        synchronized (tableLock) {
            heldCount = held.size();
            for (Held h : held) {
                heldMessages += h.batch().size();
            }
            held.clear();
            heldBatches = 0;
        }
        List<Channel> all = new ArrayList<>(channels.values());
        long queued = 0;
        for (Channel c : all) {
            queued += c.queuedMessages();
            c.beginDrain();
        }
        LOG.info("routing stopping: draining {} messages from {} channels (up to {} s)", queued, all.size(),
                drainTimeoutMillis / 1000);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainTimeoutMillis);
        for (Channel c : all) {
            c.awaitDrained(deadline);
        }
        long lost = heldMessages;
        for (Channel c : all) {
            long spooledBefore = c.spooledMessages();
            lost += c.stop();
            if (c.spoolMessages() > 0) {
                LOG.info("backend {}: {} messages stay in its spool and are replayed when it is available "
                        + "(also after a restart); {} of them were spooled during the shutdown ({})", c.name(),
                        c.spoolMessages(), c.spooledMessages() - spooledBefore, c.waitingForBackend()
                                ? "backend not available" : c.breaker() == Channel.Breaker.OPEN ? "circuit breaker open"
                                : "not delivered within drain.timeout.seconds=" + drainTimeoutMillis / 1000);
            }
        }
        if (heldMessages > 0) {
            LOG.error("{} messages in {} batches not delivered at shutdown: no route was ever configured", heldMessages,
                    heldCount);
        }
        if (lost == 0) {
            LOG.info("routing stopped: every channel delivered or spooled what it held");
        } else {
            LOG.error("routing stopped: {} messages not delivered in total", lost);
        }
    }

    // --- routes ----------------------------------------------------------------------------

    @Reference(name = "routes", service = RouteComponent.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindRoute",
            updated = "updatedRoute")
    public void bindRoute(RouteComponent component) {
        component.listen(this::updatedRoute);
        updatedRoute(component);
    }

    /** The route in force of a configuration changed (or its service properties did). */
    public void updatedRoute(RouteComponent component) {
        RouteDefinition r = component.route();
        synchronized (tableLock) {
            if (r == null) {
                return; // never valid: logged at ERROR by the component; nothing applied
            }
            RouteDefinition before = routes.put(component, r);
            if (before != r) {
                rebuild("route " + r.name() + (before == null ? " added" : " changed"));
            }
        }
    }

    public void unbindRoute(RouteComponent component) {
        component.listen(null);
        synchronized (tableLock) {
            RouteDefinition r = routes.remove(component);
            if (r != null) {
                rebuild("route " + r.name() + " removed");
            }
        }
    }

    /** Tests and benchmarks: a route built in code. */
    public void addRoute(RouteDefinition route) {
        synchronized (tableLock) {
            routes.put(route, route);
            rebuild("route " + route.name() + " added");
        }
    }

    public void removeRoute(RouteDefinition route) {
        synchronized (tableLock) {
            if (routes.remove(route) != null) {
                rebuild("route " + route.name() + " removed");
            }
        }
    }

    /** Called with tableLock held. */
    private void rebuild(String why) {
        if (!accepting) {
            return; // deactivated: SCR is unbinding everything, channels are stopped
        }
        RoutingTable next = new RoutingTable(List.copyOf(routes.values()), this::channel);
        int enabled = 0;
        for (RouteDefinition r : next.routes()) {
            if (r.enabled()) {
                enabled++;
            }
        }
        LOG.info("{}: {} routes in force ({} enabled), backends {}", why, next.size(), enabled, next.backendNames());
        if (!next.isEmpty() && !held.isEmpty()) {
            // released with the new table before it is published: batches that arrive meanwhile
            // wait on tableLock in hold(), so held ones keep their place in front of them
            int n = held.size();
            while (!held.isEmpty()) {
                Held h = held.pollFirst();
                dispatch(next, h.batch(), h.delivered());
            }
            heldBatches = 0;
            LOG.info("released {} batches held while no route was configured", n);
        }
        table = next;
    }

    // --- backends --------------------------------------------------------------------------

    @Reference(name = "backends", service = Backend.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindBackend", updated = "updatedBackend")
    public void bindBackend(Backend backend, Map<String, Object> properties) {
        String name = BackendNames.of(properties);
        if (name == null) {
            LOG.warn("a backend service without a name ({} property, named factory configuration or fileinstall file) "
                    + "is ignored: {}", Backend.NAME, properties.get("service.pid"));
            return;
        }
        synchronized (backendLock) {
            boundBackends.put(backend, name);
            Object kind = properties.get(Backend.KIND);
            if (kind != null) {
                kinds.put(name, kind.toString());
            }
            List<Backend> same = backendsByName.computeIfAbsent(name, k -> new ArrayList<>());
            same.add(backend);
            if (same.size() > 1) {
                LOG.warn("{} backends named {} are bound; the most recent one is used", same.size(), name);
            }
            Channel c = channels.get(name);
            if (c != null) {
                c.attach(backend);
            }
        }
        LOG.info("backend {} bound", name);
    }

    public void unbindBackend(Backend backend, Map<String, Object> properties) {
        String name;
        Channel c;
        synchronized (backendLock) {
            name = boundBackends.remove(backend);
            if (name == null) {
                return;
            }
            List<Backend> same = backendsByName.get(name);
            same.remove(backend);
            Backend replacement = same.isEmpty() ? null : same.get(same.size() - 1);
            if (same.isEmpty()) {
                backendsByName.remove(name);
            }
            c = channels.get(name);
            if (c != null) {
                c.detach(backend, replacement);
            }
        }
        if (c != null && !c.awaitNotWritingWith(backend, Math.max(drainTimeoutMillis, 1000))) {
            LOG.warn("backend {} unbound while a write to it was still running after {} ms", name,
                    Math.max(drainTimeoutMillis, 1000));
        }
        LOG.info("backend {} unbound{}", name, c != null && c.waitingForBackend()
                ? "; what is queued for it goes to its spool (" + (c.queuedMessages() + c.spoolMessages())
                        + " messages wait for it)" : "");
    }

    public void updatedBackend(Backend backend, Map<String, Object> properties) {
        String now = BackendNames.of(properties);
        String before;
        synchronized (backendLock) {
            before = boundBackends.get(backend);
        }
        if (now != null && now.equals(before)) {
            return;
        }
        unbindBackend(backend, properties);
        bindBackend(backend, properties);
    }

    /** The channel of a backend name, created (and bound to a backend of that name) on first use. */
    private Channel channel(String name) {
        Channel c = channels.get(name);
        if (c != null) {
            return c;
        }
        synchronized (backendLock) {
            c = channels.get(name);
            if (c == null) {
                String dir = Spool.directoryName(name);
                c = new Channel(name, channelPolicy, spoolDir.resolve(dir), spoolLimits, deadLetterDir.resolve(dir));
                List<Backend> same = backendsByName.get(name);
                if (same != null && !same.isEmpty()) {
                    c.attach(same.get(same.size() - 1));
                }
                channels.put(name, c);
                c.start();
            }
            return c;
        }
    }

    // --- listeners -------------------------------------------------------------------------

    @Reference(name = "listeners", service = io.signalbox.api.BatchListener.class,
            cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeListener")
    public void addListener(io.signalbox.api.BatchListener listener) {
        listeners.add(listener);
    }

    public void removeListener(io.signalbox.api.BatchListener listener) {
        listeners.remove(listener);
    }

    private void notifyListeners(Batch batch, List<String> backends) {
        for (io.signalbox.api.BatchListener l : listeners) {
            try {
                l.routed(batch, backends);
            } catch (RuntimeException e) {
                long suppressed = listenerLog.permit(1);
                if (suppressed >= 0) {
                    LOG.warn("a batch listener failed ({} more failures not logged in the last {} s)", suppressed,
                            LogLimiter.DEFAULT_INTERVAL_SECONDS, e);
                }
            }
        }
    }

    // --- introspection ---------------------------------------------------------------------

    @Override
    public List<io.signalbox.api.RouteInfo> routes() {
        List<io.signalbox.api.RouteInfo> out = new ArrayList<>();
        for (RouteDefinition r : table.routes()) {
            out.add(r.info());
        }
        return out;
    }

    @Override
    public List<io.signalbox.api.BackendStatus> backends() {
        Map<String, String> kindsNow;
        synchronized (backendLock) {
            kindsNow = new java.util.HashMap<>(kinds);
            for (String name : new ArrayList<>(kindsNow.keySet())) {
                if (!backendsByName.containsKey(name)) {
                    kindsNow.remove(name);
                }
            }
        }
        List<io.signalbox.api.BackendStatus> out = new ArrayList<>();
        for (Channel c : new TreeMap<>(channels).values()) {
            out.add(new io.signalbox.api.BackendStatus(c.name(), kindsNow.get(c.name()), c.state(), c.queuedMessages(),
                    c.spoolMessages(), c.spoolBytes(), c.routedMessages(), c.writeFailures(), c.deadLetteredMessages(),
                    c.spoolDroppedMessages()));
        }
        return out;
    }

    // --- routing ---------------------------------------------------------------------------

    @Override
    public void route(Batch batch, Runnable delivered) {
        if (!accepting) {
            reject(batch, delivered);
            return;
        }
        RoutingTable t = table;
        if (t.isEmpty()) {
            t = hold(batch, delivered);
            if (t == null) {
                return;
            }
        }
        dispatch(t, batch, delivered);
    }

    /** Holds the batch while no route exists; returns the table to use if routes appeared meanwhile. */
    private RoutingTable hold(Batch batch, Runnable delivered) {
        synchronized (tableLock) {
            if (!accepting) {
                reject(batch, delivered); // deactivate() already counted what was held
                return null;
            }
            RoutingTable t = table;
            if (!t.isEmpty()) {
                return t;
            }
            held.addLast(new Held(batch, delivered));
            heldBatches = held.size();
            return null;
        }
    }

    private void dispatch(RoutingTable t, Batch batch, Runnable delivered) {
        List<Message> messages = batch.messages();
        int n = messages.size();
        if (n == 0) {
            Completion.run(delivered);
            return;
        }
        int batchMask = 0;
        for (int i = 0; i < n; i++) {
            batchMask |= 1 << messages.get(i).type().ordinal();
        }
        RoutingTable.Resolved r = t.resolve(batch.source());
        int unroutedMask = batchMask & ~r.typeMask;
        if (unroutedMask != 0) {
            countUnrouted(batch, unroutedMask, r);
        }
        RoutingTable.Target[] targets = r.targets;
        int parts = 0;
        for (RoutingTable.Target target : targets) {
            if ((batchMask & target.typeMask) != 0) {
                parts++;
            }
        }
        if (parts == 0) {
            if (!listeners.isEmpty()) {
                notifyListeners(batch, List.of());
            }
            Completion.run(delivered);
            return;
        }
        List<String> names = listeners.isEmpty() ? null : new ArrayList<>(parts);
        Completion completion = new Completion(parts, delivered);
        for (RoutingTable.Target target : targets) {
            int mask = target.typeMask;
            if ((batchMask & mask) == 0) {
                continue;
            }
            Batch part = (batchMask & ~mask) == 0 ? batch : filter(batch, mask);
            if (names != null) {
                names.add(target.channel.name());
            }
            if (!target.channel.enqueue(part, completion)) {
                reject(part, completion::partDone);
            }
        }
        if (names != null) {
            notifyListeners(batch, names);
        }
    }

    private static Batch filter(Batch batch, int mask) {
        List<Message> messages = batch.messages();
        List<Message> part = new ArrayList<>(messages.size());
        for (int i = 0, n = messages.size(); i < n; i++) {
            Message m = messages.get(i);
            if ((mask & (1 << m.type().ordinal())) != 0) {
                part.add(m);
            }
        }
        return new Batch(batch.source(), part, batch.receivedNanos());
    }

    private void countUnrouted(Batch batch, int unroutedMask, RoutingTable.Resolved r) {
        List<Message> messages = batch.messages();
        long count = 0;
        for (int i = 0, n = messages.size(); i < n; i++) {
            if ((unroutedMask & (1 << messages.get(i).type().ordinal())) != 0) {
                count++;
            }
        }
        unrouted.add(count);
        long suppressed = unroutedLog.permit(count);
        if (suppressed >= 0) {
            List<String> types = new ArrayList<>();
            for (MessageType type : MessageType.values()) {
                if ((unroutedMask & (1 << type.ordinal())) != 0) {
                    types.add(type.wireName());
                }
            }
            LOG.warn("{} messages of source {} (types {}) matched no route{} and were not routed "
                    + "({} more unrouted messages not logged in the last {} s)", count, batch.source(), types,
                    r.routeNames.isEmpty() ? "" : " (routes " + r.routeNames + " do not take these types)",
                    suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS);
        }
    }

    /** A batch offered after the engine stopped: dropped, counted, its callback run. */
    private void reject(Batch batch, Runnable delivered) {
        rejected.add(batch.size());
        long suppressed = rejectedLog.permit(batch.size());
        if (suppressed >= 0) {
            LOG.warn("routing is stopping: {} messages of source {} were not routed ({} more not logged in the last {} s)",
                    batch.size(), batch.source(), suppressed, LogLimiter.DEFAULT_INTERVAL_SECONDS);
        }
        Completion.run(delivered);
    }

    // --- stats -----------------------------------------------------------------------------

    @Override
    public Map<String, Number> stats() {
        Map<String, Number> stats = new LinkedHashMap<>();
        Map<String, Channel> sorted = new TreeMap<>(channels);
        Set<String> referenced = table.backendNames();
        for (Channel c : sorted.values()) {
            // a channel no enabled route sends to any more and that holds nothing is not waiting
            boolean waiting = c.waitingForBackend()
                    && (referenced.contains(c.name()) || c.queuedMessages() > 0 || c.spoolMessages() > 0);
            String label = "{backend=\"" + escape(c.name()) + "\"}";
            stats.put("signalbox_messages_routed_total" + label, c.routedMessages());
            stats.put("signalbox_channel_queued_messages" + label, c.queuedMessages());
            stats.put("signalbox_backend_write_failures_total" + label, c.writeFailures());
            stats.put("signalbox_backend_batches_written_total" + label, c.batchesWritten());
            stats.put("signalbox_channel_waiting_for_backend" + label, waiting ? 1 : 0);
            stats.put("signalbox_spool_bytes" + label, c.spoolBytes());
            stats.put("signalbox_spool_messages" + label, c.spoolMessages());
            stats.put("signalbox_spool_dropped_messages_total" + label, c.spoolDroppedMessages());
            stats.put("signalbox_spool_corrupt_records_total" + label, c.spoolCorruptRecords());
            stats.put("signalbox_spool_ignored_files" + label, c.spoolIgnoredFiles());
            stats.put("signalbox_spool_appended_messages_total" + label, c.spooledMessages());
            stats.put("signalbox_spool_replayed_messages_total" + label, c.replayedMessages());
            stats.put("signalbox_backend_breaker_state" + label, c.breaker().ordinal());
            stats.put("signalbox_backend_breaker_opened_total" + label, c.breakerOpenedCount());
            stats.put("signalbox_deadletter_messages_total" + label, c.deadLetteredMessages());
            String labels = label.substring(1, label.length() - 1);
            c.writeLatency().putInto(stats, "signalbox_backend_latency_seconds", labels);
            c.pipelineLatency().putInto(stats, "signalbox_pipeline_latency_seconds", labels);
            stats.put("signalbox_backend_state" + label, c.state().ordinal());
        }
        stats.put("signalbox_messages_unrouted_total", unrouted.sum());
        stats.put("signalbox_routing_rejected_messages_total", rejected.sum());
        stats.put("signalbox_routes_configured", table.size());
        stats.put("signalbox_batches_held", heldBatches);
        return stats;
    }

    private static String escape(String s) {
        if (s.indexOf('"') < 0 && s.indexOf('\\') < 0 && s.indexOf('\n') < 0) {
            return s;
        }
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
