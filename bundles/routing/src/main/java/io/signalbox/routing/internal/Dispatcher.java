package io.signalbox.routing.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchListener;
import io.signalbox.api.LogLimiter;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RouteInfo;

/**
 * Sends every batch where the routes in force say: resolves its source in the {@link RoutingTable},
 * splits it by the types each channel takes (the whole batch is passed on when a channel takes all
 * of them), queues the parts on their channels and runs the batch's callback once all of them are
 * written or spooled ({@link Completion}). Messages no route takes are counted as unrouted.
 *
 * <p>The routes in force are kept per key (a route configuration, or a route added in code); every
 * change rebuilds an immutable table that is swapped in atomically. While no route at all is
 * configured (e.g. fileinstall has not read {@code etc/} yet), batches are held, not counted as
 * unrouted, and released in order when the first route appears. After {@link #stop}, batches are
 * rejected: dropped, counted, their callbacks run.
 */
final class Dispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    private record Held(Batch batch, Runnable delivered) {
    }

    private final Function<String, Channel> channels;
    private final CopyOnWriteArrayList<BatchListener> listeners = new CopyOnWriteArrayList<>();
    private final LogLimiter listenerLog = new LogLimiter();
    private final LongAdder unrouted = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LogLimiter unroutedLog = new LogLimiter();
    private final LogLimiter rejectedLog = new LogLimiter();

    private final Object tableLock = new Object();
    // guarded by tableLock: the route in force per key, in add order, and the batches held
    private final Map<Object, RouteDefinition> routes = new LinkedHashMap<>();
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private volatile RoutingTable table;
    private volatile int heldBatches;
    private volatile boolean accepting = true;

    /** @param channels the channel of a backend name, created on first use */
    Dispatcher(Function<String, Channel> channels) {
        this.channels = channels;
        this.table = new RoutingTable(List.of(), channels);
    }

    // --- routes ----------------------------------------------------------------------------

    /** Puts {@code route} in force for {@code key}. */
    void put(Object key, RouteDefinition route) {
        synchronized (tableLock) {
            RouteDefinition before = routes.put(key, route);
            if (before != route) {
                rebuild("route " + route.name() + (before == null ? " added" : " changed"));
            }
        }
    }

    /** Removes the route in force for {@code key}, if any. */
    void remove(Object key) {
        synchronized (tableLock) {
            RouteDefinition r = routes.remove(key);
            if (r != null) {
                rebuild("route " + r.name() + " removed");
            }
        }
    }

    /** Called with tableLock held. */
    private void rebuild(String why) {
        if (!accepting) {
            return; // stopped: SCR is unbinding everything, channels are stopped
        }
        RoutingTable next = new RoutingTable(List.copyOf(routes.values()), channels);
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

    /** The routes in force, in the order they are applied. */
    List<RouteInfo> routes() {
        List<RouteInfo> out = new ArrayList<>();
        for (RouteDefinition r : table.routes()) {
            out.add(r.info());
        }
        return out;
    }

    /** The backend names enabled routes send to. */
    Set<String> referencedBackends() {
        return table.backendNames();
    }

    void addListener(BatchListener listener) {
        listeners.add(listener);
    }

    void removeListener(BatchListener listener) {
        listeners.remove(listener);
    }

    // --- routing ---------------------------------------------------------------------------

    /** Routes one batch; never blocks (but on the table lock while no route exists). */
    void route(Batch batch, Runnable delivered) {
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
                reject(batch, delivered); // stop() already counted what was held
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
            if ((batchMask & target.typeMask()) != 0) {
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
            int mask = target.typeMask();
            if ((batchMask & mask) == 0) {
                continue;
            }
            Batch part = (batchMask & ~mask) == 0 ? batch : filter(batch, mask);
            if (names != null) {
                names.add(target.channel().name());
            }
            if (!target.channel().enqueue(part, completion) && !reoffer(target.channel(), part, completion)) {
                reject(part, completion::partDone);
            }
        }
        if (names != null) {
            notifyListeners(batch, names);
        }
    }

    /**
     * A channel refused a batch: it is stopping, or it was closed as unused by
     * {@link ChannelRegistry#sweep} after this table was built. In the second case the channel
     * of that name now (made anew) takes it.
     */
    private boolean reoffer(Channel refused, Batch part, Completion completion) {
        if (!accepting) {
            return false;
        }
        Channel now = channels.apply(refused.name());
        return now != refused && now.enqueue(part, completion);
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

    private void notifyListeners(Batch batch, List<String> backends) {
        for (BatchListener l : listeners) {
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

    // --- stop and stats --------------------------------------------------------------------

    /**
     * Stops taking batches; what is held (no route was ever configured) is dropped.
     *
     * @return the messages dropped
     */
    long stop() {
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
        if (heldMessages > 0) {
            LOG.error("{} messages in {} batches not delivered at shutdown: no route was ever configured", heldMessages,
                    heldCount);
        }
        return heldMessages;
    }

    void collect(MetricsSink sink) {
        sink.counter("signalbox_messages_unrouted_total", unrouted.sum());
        sink.counter("signalbox_routing_rejected_messages_total", rejected.sum());
        sink.gauge("signalbox_routes_configured", table.size());
        sink.gauge("signalbox_batches_held", heldBatches);
    }
}
