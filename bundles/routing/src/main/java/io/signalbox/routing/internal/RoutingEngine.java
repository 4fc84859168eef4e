package io.signalbox.routing.internal;

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
    }

    private record Held(Batch batch, Runnable delivered) {
    }

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
    private final Object backendLock = new Object();
    // guarded by backendLock: every bound backend and its name, in bind order
    private final Map<Backend, String> boundBackends = new IdentityHashMap<>();
    private final Map<String, List<Backend>> backendsByName = new LinkedHashMap<>();

    private final Object tableLock = new Object();
    // guarded by tableLock
    private final List<RouteDefinition> routes = new ArrayList<>();
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private volatile RoutingTable table;
    private volatile int heldBatches;

    private final LongAdder unrouted = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LogLimiter unroutedLog = new LogLimiter();
    private final LogLimiter rejectedLog = new LogLimiter();
    private final Channel.RetryPolicy retryPolicy = new Channel.RetryPolicy() {
        @Override
        public long initialMillis() {
            return retryInitialMillis;
        }

        @Override
        public long maxMillis() {
            return retryMaxMillis;
        }
    };

    private volatile long drainTimeoutMillis;
    private volatile long retryInitialMillis;
    private volatile long retryMaxMillis;
    private volatile boolean accepting = true;

    @Activate
    public RoutingEngine(Config config) {
        apply(config);
        this.table = new RoutingTable(List.of(), this::channel);
        LOG.info("routing started: drain.timeout.seconds={} retry.initial.ms={} retry.max.ms={}",
                drainTimeoutMillis / 1000, retryInitialMillis, retryMaxMillis);
    }

    @Modified
    public void modified(Config config) {
        apply(config);
        LOG.info("routing reconfigured: drain.timeout.seconds={} retry.initial.ms={} retry.max.ms={}",
                drainTimeoutMillis / 1000, retryInitialMillis, retryMaxMillis);
    }

    private void apply(Config config) {
        long drain = config.drain_timeout_seconds();
        long initial = config.retry_initial_ms();
        long max = config.retry_max_ms();
        if (drain < 0) {
            LOG.warn("drain.timeout.seconds={} is negative; using 0", drain);
            drain = 0;
        }
        if (initial < 1) {
            LOG.warn("retry.initial.ms={} must be at least 1; using 1", initial);
            initial = 1;
        }
        if (max < initial) {
            LOG.warn("retry.max.ms={} is below retry.initial.ms={}; using {}", max, initial, initial);
            max = initial;
        }
        this.drainTimeoutMillis = TimeUnit.SECONDS.toMillis(drain);
        this.retryInitialMillis = initial;
        this.retryMaxMillis = max;
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
            c.stop();
            long left = c.queuedMessages();
            if (left > 0) {
                lost += left;
                LOG.error("backend {}: {} messages in {} batches not delivered at shutdown ({})", c.name(), left,
                        c.queuedBatches(), c.waitingForBackend() ? "backend not available"
                                : "backend still failing or slow after " + drainTimeoutMillis / 1000 + " s");
            }
        }
        if (heldMessages > 0) {
            LOG.error("{} messages in {} batches not delivered at shutdown: no route was ever configured", heldMessages,
                    heldCount);
        }
        if (lost == 0) {
            LOG.info("routing stopped: every channel drained");
        } else {
            LOG.error("routing stopped: {} messages not delivered in total", lost);
        }
    }

    // --- routes ----------------------------------------------------------------------------

    @Reference(name = "routes", service = RouteDefinition.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "removeRoute")
    public void addRoute(RouteDefinition route) {
        if (route.invalidReason() != null) {
            return; // logged at ERROR by the route itself; not applied
        }
        synchronized (tableLock) {
            routes.add(route);
            rebuild("route " + route.name() + " added");
        }
    }

    public void removeRoute(RouteDefinition route) {
        synchronized (tableLock) {
            if (routes.remove(route)) {
                rebuild("route " + route.name() + " removed");
            }
        }
    }

    /** Called with tableLock held. */
    private void rebuild(String why) {
        if (!accepting) {
            return; // deactivated: SCR is unbinding everything, channels are stopped
        }
        RoutingTable next = new RoutingTable(List.copyOf(routes), this::channel);
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
        LOG.info("backend {} unbound{}", name, c != null && c.waitingForBackend() && c.queuedMessages() > 0
                ? "; " + c.queuedMessages() + " messages wait for it" : "");
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
                c = new Channel(name, retryPolicy);
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
            Completion.run(delivered);
            return;
        }
        Completion completion = new Completion(parts, delivered);
        for (RoutingTable.Target target : targets) {
            int mask = target.typeMask;
            if ((batchMask & mask) == 0) {
                continue;
            }
            Batch part = (batchMask & ~mask) == 0 ? batch : filter(batch, mask);
            if (!target.channel.enqueue(part, completion)) {
                reject(part, completion::partDone);
            }
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
        return new Batch(batch.source(), part);
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
            boolean waiting = c.waitingForBackend() && (referenced.contains(c.name()) || c.queuedMessages() > 0);
            String label = "{backend=\"" + escape(c.name()) + "\"}";
            stats.put("signalbox_messages_routed_total" + label, c.routedMessages());
            stats.put("signalbox_channel_queued_messages" + label, c.queuedMessages());
            stats.put("signalbox_backend_write_failures_total" + label, c.writeFailures());
            stats.put("signalbox_backend_batches_written_total" + label, c.batchesWritten());
            stats.put("signalbox_channel_waiting_for_backend" + label, waiting ? 1 : 0);
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
