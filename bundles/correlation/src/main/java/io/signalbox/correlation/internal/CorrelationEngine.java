package io.signalbox.correlation.internal;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

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

import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Ingest;
import io.signalbox.api.IngestListener;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.Router;
import io.signalbox.api.StatsSource;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;
import io.signalbox.api.TraceSummary;

/**
 * The pipeline's entry point: per-source buffers cut into batches by size, age and severity
 * and handed to the {@link Router}; back-pressure accounting of the messages in flight
 * ({@link InFlight}); and the trace store ({@link InMemoryTraceStore}). Its configuration is
 * checked once into {@link CorrelationSettings}; a rejected one is logged and counted, and the
 * component does not start, or on a change the one in force stays ({@link ConfigCheck}).
 *
 * <p>Hot path ({@link #offer}): one atomic increment for the in-flight count, one striped
 * counter, one map lookup and the source's own (normally uncontended) monitor for the append,
 * under which the source's received counter (an uncontended atomic, {@link ReceivedCounters})
 * is incremented.
 * Messages with a trace id also take their trace's monitor (events and metrics are kept by
 * reference, bounded per span and per trace). The router is called outside
 * every monitor; a source's batches reach it in order (see {@link SourceBuffer}).
 *
 * <p>One scheduler thread ({@link Ticker}) ticks every {@code min(flush.interval.ms / 4, 250 ms)}: it flushes
 * buffers whose oldest message is older than the interval (every buffer while a transport is
 * paused by back-pressure), retires sources idle for
 * {@value #SOURCE_IDLE_MINUTES} minutes and, once a second, sweeps the trace store (TTL,
 * count).
 */
@Component(name = Ingest.PID, configurationPid = Ingest.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = { Ingest.class, TraceStore.class, StatsSource.class })
@Designate(ocd = CorrelationEngine.Config.class)
public final class CorrelationEngine implements Ingest, TraceStore, StatsSource {

    @ObjectClassDefinition(id = Ingest.PID, name = "Signalbox correlation", description = "Per-source batching, back-pressure and the trace store.")
    public @interface Config {
        @AttributeDefinition(description = "A source's buffer is flushed when it holds this many messages.", min = "1") int batch_size() default 100;
        @AttributeDefinition(description = "A source's buffer is flushed when its oldest message waited this long (ms).", min = "1") long flush_interval_ms() default 5000;
        @AttributeDefinition(description = "High-water mark: messages accepted but not yet delivered by routing; above it offer() asks the transports to pause reading.", min = "1") int queue_capacity() default 100000;
        @AttributeDefinition(description = "High-water mark in MiB: the lines in flight plus the objects that carry them (96 bytes a message, more with a trace id or for a span); above it offer() asks the transports to pause reading. bin/signalbox sizes the heap from it.", min = "1") int queue_max_mb() default 32;
        @AttributeDefinition(description = "Paused transports resume when in-flight drops to queue.capacity * this and queue.max.mb * this.", min = "0", max = "1") double resume_ratio() default 0.5;
        @AttributeDefinition(description = "Traces held; beyond it the least recently updated are evicted.", min = "1") int trace_max_traces() default 10000;
        @AttributeDefinition(description = "A trace not updated for this long (s) is evicted.", min = "1") long trace_ttl_seconds() default 3600;
        @AttributeDefinition(description = "Spans kept per trace; further spans are counted, not kept.", min = "0") int trace_max_spans() default 1000;
        @AttributeDefinition(description = "Events kept per span, and metrics kept per span, of a trace (also for those of a trace that name no span); further ones are counted, not kept.", min = "0") int trace_max_messages_per_span() default 100;
        @AttributeDefinition(description = "Events and metrics kept per trace, all spans together; further ones are counted, not kept.", min = "0") int trace_max_messages() default 1000;
    }

    static final long SOURCE_IDLE_MINUTES = 10;
    private static final long SOURCE_IDLE_NANOS = TimeUnit.MINUTES.toNanos(SOURCE_IDLE_MINUTES);
    private static final long SWEEP_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final Logger LOG = LoggerFactory.getLogger(CorrelationEngine.class);

    private final Router router;
    private final LongSupplier nanoClock;
    private final InMemoryTraceStore traces;
    private final ConcurrentHashMap<String, SourceBuffer> buffers = new ConcurrentHashMap<>();
    private final ReceivedCounters received = new ReceivedCounters();
    private final FlushCounters flushCounters = new FlushCounters();
    private final LongAdder ingested = new LongAdder();
    private final LongAdder routeFailed = new LongAdder();
    private final RateLimitedLog problems = new RateLimitedLog(LOG);
    private final InFlight inFlight;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final BooleanSupplier isStopping = stopping::get;
    /** {@code null} when the owner (a unit test) ticks by hand. */
    private final Ticker ticker;
    private volatile CorrelationSettings settings;
    /** Told of every accepted message before it is buffered (alerting); empty in unit tests. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<IngestListener> listeners = List.of();
    /** Tick thread only. */
    private long lastSweepNanos;

    /**
     * Checks the whole configuration first: unknown keys, values of the wrong type and out of
     * range values are rejected (ERROR with the reason, counted) and the component does not start.
     */
    @Activate
    public CorrelationEngine(Config config, Map<String, Object> properties, @Reference(name = "router") Router router) {
        this(config, properties, router, System::currentTimeMillis, System::nanoTime, true);
    }

    /** Without the raw properties (benchmarks): values are checked, keys are not. */
    public CorrelationEngine(Config config, Router router) {
        this(config, Map.of(), router, System::currentTimeMillis, System::nanoTime, true);
    }

    /**
     * @param properties  the raw configuration, for the unknown-key check
     * @param millisClock epoch millis, for the trace store's TTL
     * @param nanoClock   monotonic nanos, for buffer ages
     * @param tick        whether to start the scheduler thread; without it the caller runs {@link #tick()}
     */
    CorrelationEngine(Config config, Map<String, ?> properties, Router router, LongSupplier millisClock,
            LongSupplier nanoClock, boolean tick) {
        this.router = Objects.requireNonNull(router, "router");
        CorrelationSettings s = ConfigCheck.activate(LOG, Ingest.PID, properties,
                () -> CorrelationSettings.of(config, properties));
        this.settings = s;
        this.nanoClock = nanoClock;
        this.traces = new InMemoryTraceStore(s.traces(), millisClock);
        this.inFlight = new InFlight(s.resumeThreshold(), s.resumeBytes(), problems);
        this.lastSweepNanos = nanoClock.getAsLong();
        this.ticker = tick ? new Ticker(this::tick, problems) : null;
        if (ticker != null) {
            ticker.every(s.tickMillis());
        }
        LOG.info("Correlation started: {}", s);
    }

    /**
     * Applies a changed configuration live (buffers and traces are kept), or, if it is rejected,
     * logs why at ERROR, counts it and keeps the configuration in force.
     */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        reconfigure(config, properties);
    }

    /** {@link #modified}, telling whether the configuration was applied. */
    boolean reconfigure(Config config, Map<String, ?> properties) {
        CorrelationSettings s = ConfigCheck.modify(LOG, Ingest.PID, properties,
                () -> CorrelationSettings.of(config, properties), settings);
        if (s == null) {
            return false;
        }
        settings = s;
        traces.configure(s.traces());
        if (ticker != null) {
            ticker.every(s.tickMillis());
        }
        LOG.info("Correlation reconfigured: {}", s);
        inFlight.resumeAt(s.resumeThreshold(), s.resumeBytes());
        return true;
    }

    /**
     * Flushes every buffer, then stops the scheduler; appends that still arrive are flushed at
     * once. Callbacks still waiting for room are run, so no transport stays paused on an
     * instance that is gone. Routing (which outlives this component) drains what it was given.
     */
    @Deactivate
    public void deactivate() {
        stopping.set(true);
        flushAll(FlushReason.SHUTDOWN);
        if (ticker != null) {
            ticker.stop();
        }
        // a tick that was running cut its batches itself; anything appended meanwhile was forced
        flushAll(FlushReason.SHUTDOWN);
        inFlight.runWaiting();
        LOG.info("Correlation stopped: {} messages ingested, {} in flight to routing", ingested.sum(), inFlight.get());
    }

    // ---------------------------------------------------------------- Ingest

    @Override
    public boolean offer(Message message) {
        return offer(message, null, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The callback goes with the message into its source's buffer and from there with the
     * batch it is cut into; it runs after the batch's own delivery accounting.
     */
    @Override
    public boolean offer(Message message, Runnable delivered) {
        return offer(message, delivered, false);
    }

    /** Like {@link #offer(Message)}, then the source's buffer is cut at once (reason {@code critical}). */
    @Override
    public boolean offerAndFlush(Message message) {
        return offer(message, null, true);
    }

    private boolean offer(Message message, Runnable delivered, boolean flushNow) {
        List<IngestListener> ls = listeners;
        // indexed: under C1 (shipped) an iterator is an allocation per message
        for (int i = 0, n = ls.size(); i < n; i++) {
            IngestListener l = ls.get(i);
            try {
                l.offered(message);
            } catch (RuntimeException e) {
                problems.warn("listener", "an ingest listener failed: {}", e.toString());
            }
        }
        long bytesNow = inFlight.add(InFlight.weight(message));
        ingested.increment();
        CorrelationSettings s = settings;
        if (message.traceId() != null) {
            traces.record(message);
        }
        String source = message.source();
        for (;;) {
            SourceBuffer buffer = buffers.get(source);
            if (buffer == null) {
                buffer = buffers.computeIfAbsent(source,
                        src -> new SourceBuffer(src, nanoClock.getAsLong(), flushCounters, isStopping, received.of(src)));
            }
            Batch batch = buffer.append(message, delivered, s.batchSize(), nanoClock, flushNow);
            if (batch == SourceBuffer.RETIRED) {
                buffers.remove(source, buffer);
                continue;
            }
            if (batch != null) {
                routeInOrder(buffer, batch);
            }
            return inFlight.get() < s.capacity() && bytesNow < s.maxBytes();
        }
    }

    @Override
    public boolean isWritable() {
        CorrelationSettings s = settings;
        return inFlight.get() < s.capacity() && inFlight.bytes() < s.maxBytes();
    }

    /**
     * Runs {@code callback} on the calling thread if in-flight is already at or below the resume
     * level ({@code queue.capacity × resume.ratio}); otherwise on the thread whose delivery brings
     * it there (a routing thread), or on the tick thread ({@link InFlight#whenWritable}).
     */
    @Override
    public void whenWritable(Runnable callback) {
        inFlight.whenWritable(callback);
    }

    // ---------------------------------------------------------------- TraceStore

    @Override
    public Optional<Trace> trace(String traceId) {
        return traces.trace(traceId);
    }

    @Override
    public List<TraceSummary> recent(int limit) {
        return traces.recent(limit);
    }

    @Override
    public int size() {
        return traces.size();
    }

    // ---------------------------------------------------------------- StatsSource

    @Override
    public void collect(MetricsSink sink) {
        sink.counter("signalbox_messages_ingested_total", ingested.sum());
        sink.gauge("signalbox_pipeline_inflight", inFlight.get());
        sink.gauge("signalbox_pipeline_capacity", settings.capacity());
        sink.gauge("signalbox_pipeline_inflight_bytes", inFlight.bytes());
        sink.gauge("signalbox_pipeline_capacity_bytes", settings.maxBytes());
        flushCounters.collect(sink);
        sink.gauge("signalbox_sources_active", buffers.size());
        sink.gauge("signalbox_traces_held", traces.size());
        sink.counter("signalbox_traces_evicted_total", traces.evictedByTtl() + traces.evictedByCapacity());
        sink.counter("signalbox_spans_dropped_total", traces.spansDropped());
        sink.counter("signalbox_messages_route_failed_total", routeFailed.sum());
        received.collect(sink, buffers);
    }

    // ---------------------------------------------------------------- internals

    /**
     * One scheduler round: age flushes, idle sources, and (once a second) the trace sweep. While
     * a transport waits for room, every buffer counts as aged, so messages held back by
     * {@code batch.size} cannot keep it paused for a whole flush interval.
     */
    void tick() {
        long now = nanoClock.getAsLong();
        long maxAge = inFlight.anyWaiting() ? 0 : settings.flushIntervalNanos();
        for (SourceBuffer buffer : buffers.values()) {
            Batch batch = buffer.flushIfOlder(now, maxAge);
            if (batch != null) {
                routeInOrder(buffer, batch);
            } else if (buffer.retireIfIdle(now, SOURCE_IDLE_NANOS)) {
                buffers.remove(buffer.source, buffer);
            }
        }
        if (now - lastSweepNanos >= SWEEP_PERIOD_NANOS) {
            lastSweepNanos = now;
            traces.sweep();
        }
    }

    private void flushAll(FlushReason reason) {
        for (SourceBuffer buffer : buffers.values()) {
            Batch batch = buffer.flush(reason);
            if (batch != null) {
                routeInOrder(buffer, batch);
            }
        }
    }

    /** Routes {@code first}, then every batch other threads parked for this source meanwhile. */
    private void routeInOrder(SourceBuffer buffer, Batch first) {
        for (Batch b = first; b != null; b = buffer.next()) {
            route(b, buffer.takeAcks(b));
        }
    }

    private void route(Batch batch, Runnable[] acks) {
        long weight = InFlight.weight(batch);
        Runnable delivery = acks == null ? inFlight.delivery(batch.size(), weight)
                : inFlight.delivery(batch.size(), weight, acks);
        try {
            router.route(batch, delivery);
        } catch (RuntimeException e) {
            routeFailed.add(batch.size());
            problems.error("route", "Router failed on a batch of {} messages of source {}; the batch is lost",
                    batch.size(), batch.source(), e);
            delivery.run();
        }
    }
}
