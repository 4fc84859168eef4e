package io.signalbox.routing.internal;

import java.util.List;
import java.util.Map;

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
import io.signalbox.api.BackendStatus;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchListener;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RouteInfo;
import io.signalbox.api.Router;
import io.signalbox.api.StatsSource;

/**
 * The router: the DS component that glues the {@link Dispatcher} (the routes in force, applied to
 * every batch) to the {@link ChannelRegistry} (one {@link Channel} per backend name, and the
 * backends bound to them), with one {@link RoutingSettings} in force.
 *
 * <p>Routes are {@link RouteComponent} services (one per {@code io.signalbox.route} factory
 * configuration), backends are {@link Backend} services, both tracked with dynamic, greedy,
 * multiple references. A rejected configuration is logged once at ERROR and counted; at
 * activation the component then does not start, on a modification the configuration in force
 * stays ({@link ConfigCheck}).
 */
@Component(service = { Router.class, StatsSource.class }, configurationPid = RoutingEngine.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = RoutingEngine.Config.class)
public final class RoutingEngine implements Router, StatsSource {
    /** PID of the optional engine configuration. */
    public static final String PID = "io.signalbox.routing";

    private static final Logger LOG = LoggerFactory.getLogger(RoutingEngine.class);

    @ObjectClassDefinition(name = "Signalbox routing", description = "Delivery channels of the routing bundle (routes are io.signalbox.route-<name>.cfg).")
    public @interface Config {
        @AttributeDefinition(description = "On shutdown, how long to wait for the channels to write what they hold.") long drain_timeout_seconds() default 30;
        @AttributeDefinition(description = "First retry delay after a failed backend write, in ms.") long retry_initial_ms() default 100;
        @AttributeDefinition(description = "Longest retry delay (the delay doubles per failure up to this), in ms.") long retry_max_ms() default 30_000;
        @AttributeDefinition(description = "Directory of the disk spools (one subdirectory per backend), relative to the working directory; a change applies to channels created afterwards (i.e. at the next start).") String spool_dir() default "data/spool";
        @AttributeDefinition(description = "Largest spool of one backend, in MiB; when full the oldest segment is dropped (counted and logged).") long spool_max_mb() default 512;
        @AttributeDefinition(description = "Size of one spool segment file, in MiB.") long spool_segment_mb() default 16;
        @AttributeDefinition(description = "When spooled records are forced to disk: always (every batch), interval (every spool.fsync.interval.ms) or never (they survive a crash of the sidecar, not a power loss).") String spool_fsync() default "interval";
        @AttributeDefinition(description = "For spool.fsync=interval: the longest time a spooled record stays unforced, in ms.") long spool_fsync_interval_ms() default 1000;
        @AttributeDefinition(description = "Messages a backend's channel holds in memory; above it (and while the backend is absent or its breaker open) batches go to its spool.") long channel_queue_messages() default 2000;
        @AttributeDefinition(description = "How long a channel's queue must stay above channel.queue.messages before its batches go to the spool, in ms (a backend a few ms behind catches up from memory).") long channel_spill_after_ms() default 1000;
        @AttributeDefinition(description = "Consecutive failed writes that open a backend's circuit breaker.") int breaker_failures() default 5;
        @AttributeDefinition(description = "Share of failed writes among the last breaker.window writes that opens a backend's circuit breaker (0..1; 0 = only breaker.failures in a row count).") double breaker_error_rate() default 0.5;
        @AttributeDefinition(description = "Writes the breaker's error rate is measured over (2..64).") int breaker_window() default 20;
        @AttributeDefinition(description = "How long an open breaker waits before one probe write, in ms.") long breaker_open_ms() default 10_000;
        @AttributeDefinition(description = "Messages per second replayed from a spool after an outage; 0 = no limit.") long replay_rate() default 20_000;
        @AttributeDefinition(description = "Directory of the dead-letter files (one subdirectory per backend) for batches a backend refuses as invalid; relative to the working directory; applies at the next start.") String deadletter_dir() default "data/deadletter";
        @AttributeDefinition(description = "Worker threads all backends' channels share for their writes and spool appends (at most this many run at once; a channel writes one batch at a time); applies at the next start.") int channel_threads() default 8;
        @AttributeDefinition(description = "Batches a channel may have outstanding at a backend that acknowledges asynchronously (the Kafka backend); 1 = one at a time, as for every other backend. With more than 1, a failed batch is retried after later ones may have been written (order across a retry is not kept).") int max_in_flight() default 4;
    }

    /** The settings in force: read by the channels and their spools whenever they need a value. */
    private volatile RoutingSettings settings;
    private final ChannelRegistry registry;
    private final Dispatcher dispatcher;

    /**
     * Validates the whole configuration first (unknown keys, types, ranges); a rejected one is
     * logged at ERROR and thrown, so the component does not start. Spools left by a previous run
     * are opened, so they are replayed when their backends appear.
     */
    @Activate
    public RoutingEngine(Config config, Map<String, Object> properties) {
        this.settings = ConfigCheck.activate(LOG, PID, properties, () -> RoutingSettings.of(config, properties));
        this.registry = new ChannelRegistry(this::settings);
        this.dispatcher = new Dispatcher(registry::channel);
        LOG.info("routing started: {}", settings);
        registry.openExistingSpools();
        registry.sweepEvery(dispatcher::referencedBackends);
    }

    /** Without the raw properties (tests, benchmarks): values are checked, keys are not. */
    public RoutingEngine(Config config) {
        this(config, Map.of());
    }

    /** The channels (tests: their count, worker threads, sweep). */
    ChannelRegistry registry() {
        return registry;
    }

    /** The settings in force. */
    RoutingSettings settings() {
        return settings;
    }

    /**
     * Applies a changed configuration live, or, if it is rejected, logs why at ERROR and keeps
     * the configuration in force.
     */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        reconfigure(config, properties);
    }

    /** {@link #modified}, telling whether the configuration was applied. */
    boolean reconfigure(Config config, Map<String, ?> properties) {
        RoutingSettings next = ConfigCheck.modify(LOG, PID, properties, () -> RoutingSettings.of(config, properties),
                settings);
        if (next == null) {
            return false;
        }
        settings = next;
        if (!registry.spoolDir().equals(next.spoolDir())) {
            LOG.warn("spool.dir changed to {}: existing channels keep spooling to {} until the next start",
                    next.spoolDir(), registry.spoolDir());
        }
        if (!registry.deadLetterDir().equals(next.deadLetterDir())) {
            LOG.warn("deadletter.dir changed to {}: dead letters keep going to {} until the next start",
                    next.deadLetterDir(), registry.deadLetterDir());
        }
        LOG.info("routing reconfigured: {}", next);
        return true;
    }

    /**
     * Stops accepting batches, lets every channel write what it holds for up to
     * {@code drain.timeout.seconds}, then stops them and reports what was not delivered.
     */
    @Deactivate
    public void deactivate() {
        long lost = dispatcher.stop();
        lost += registry.drainAndStop();
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
        dispatcher.put(component, component.route());
    }

    public void unbindRoute(RouteComponent component) {
        component.listen(null);
        dispatcher.remove(component);
    }

    /** Tests and benchmarks: a route built in code. */
    public void addRoute(RouteDefinition route) {
        dispatcher.put(route, route);
    }

    public void removeRoute(RouteDefinition route) {
        dispatcher.remove(route);
    }

    // --- backends and listeners ------------------------------------------------------------

    @Reference(name = "backends", service = Backend.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindBackend", updated = "updatedBackend")
    public void bindBackend(Backend backend, Map<String, Object> properties) {
        registry.bind(backend, properties);
    }

    public void unbindBackend(Backend backend, Map<String, Object> properties) {
        registry.unbind(backend);
    }

    public void updatedBackend(Backend backend, Map<String, Object> properties) {
        registry.updated(backend, properties);
    }

    @Reference(name = "listeners", service = BatchListener.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "removeListener")
    public void addListener(BatchListener listener) {
        dispatcher.addListener(listener);
    }

    public void removeListener(BatchListener listener) {
        dispatcher.removeListener(listener);
    }

    // --- Router and StatsSource ------------------------------------------------------------

    @Override
    public void route(Batch batch, Runnable delivered) {
        dispatcher.route(batch, delivered);
    }

    @Override
    public List<RouteInfo> routes() {
        return dispatcher.routes();
    }

    @Override
    public List<BackendStatus> backends() {
        return registry.statuses();
    }

    /** Per channel (by name) its series, then the engine's own. */
    @Override
    public void collect(MetricsSink sink) {
        registry.collect(sink, dispatcher.referencedBackends());
        dispatcher.collect(sink);
    }
}
