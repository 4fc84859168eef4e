package io.signalbox.correlation.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Ingest;
import io.signalbox.api.Message;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.Router;
import io.signalbox.api.StatsSource;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;
import io.signalbox.api.TraceSummary;

/**
 * The pipeline's entry point: per-source buffers cut into batches by size, age and severity
 * and handed to the {@link Router}; back-pressure accounting of the messages in flight; and
 * the trace store.
 *
 * <p>Hot path ({@link #offer}): one atomic increment for the in-flight count, one striped
 * counter, one map lookup and the source's own (normally uncontended) monitor for the append,
 * under which the source's received counter (an uncontended atomic) is incremented.
 * Messages with a trace id also take their trace's monitor (events and metrics are kept by
 * reference, bounded per span and per trace). The router is called outside
 * every monitor; a source's batches reach it in order (see {@link SourceBuffer}).
 *
 * <p>One scheduler thread ticks every {@code min(flush.interval.ms / 4, 250 ms)}: it flushes
 * buffers whose oldest message is older than the interval (every buffer while a transport is
 * paused by back-pressure), retires sources idle for
 * {@value #SOURCE_IDLE_MINUTES} minutes and, once a second, sweeps the trace store (TTL,
 * count).
 */
@Component(name = Ingest.PID, configurationPid = Ingest.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = { Ingest.class, TraceStore.class, StatsSource.class })
@Designate(ocd = CorrelationEngine.Config.class)
public final class CorrelationEngine implements Ingest, TraceStore, StatsSource {

    @ObjectClassDefinition(id = Ingest.PID, name = "Signalbox correlation",
            description = "Per-source batching, back-pressure and the trace store.")
    public @interface Config {
        @AttributeDefinition(description = "A source's buffer is flushed when it holds this many messages.")
        int batch_size() default 100;

        @AttributeDefinition(description = "A source's buffer is flushed when its oldest message waited this long (ms).")
        long flush_interval_ms() default 5000;

        @AttributeDefinition(description = "High-water mark: messages accepted but not yet delivered by routing; "
                + "above it offer() asks the transports to pause reading.")
        int queue_capacity() default 10000;

        @AttributeDefinition(description = "Paused transports resume when in-flight drops to queue.capacity * this (0..1).")
        double resume_ratio() default 0.5;

        @AttributeDefinition(description = "Traces held; beyond it the least recently updated are evicted.")
        int trace_max_traces() default 10000;

        @AttributeDefinition(description = "A trace not updated for this long (s) is evicted.")
        long trace_ttl_seconds() default 3600;

        @AttributeDefinition(description = "Spans kept per trace; further spans are counted, not kept.")
        int trace_max_spans() default 1000;

        @AttributeDefinition(description = "Events kept per span, and metrics kept per span, of a trace (also for "
                + "those of a trace that name no span); further ones are counted, not kept.")
        int trace_max_messages_per_span() default 100;

        @AttributeDefinition(description = "Events and metrics kept per trace, all spans together; further ones "
                + "are counted, not kept.")
        int trace_max_messages() default 1000;
    }

    static final long SOURCE_IDLE_MINUTES = 10;
    private static final long SOURCE_IDLE_NANOS = TimeUnit.MINUTES.toNanos(SOURCE_IDLE_MINUTES);
    private static final long SWEEP_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_TICK_MILLIS = 250;
    private static final long MIN_TICK_MILLIS = 5;

    private static final Logger LOG = LoggerFactory.getLogger(CorrelationEngine.class);

    private final Router router;
    private final LongSupplier nanoClock;
    private final InMemoryTraceStore traces;
    private final ConcurrentHashMap<String, SourceBuffer> buffers = new ConcurrentHashMap<>();
    /** Messages accepted per source since start ({@code signalbox_messages_received_total{source}}). */
    private final ConcurrentHashMap<String, AtomicLong> receivedBySource = new ConcurrentHashMap<>();
    private final AtomicLong receivedOther = new AtomicLong();
    /** Sources with their own received series; further ones are counted under {@value #OTHER_SOURCES}. */
    static final int MAX_SOURCE_SERIES = 10_000;
    static final String OTHER_SOURCES = "_other";
    private final FlushCounters flushCounters = new FlushCounters();
    private final AtomicLong inflight = new AtomicLong();
    private final LongAdder ingested = new LongAdder();
    private final LongAdder routeFailed = new LongAdder();
    private final ConcurrentLinkedQueue<Runnable> writableCallbacks = new ConcurrentLinkedQueue<>();
    private final RateLimitedLog problems = new RateLimitedLog(LOG);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final BooleanSupplier isStopping = stopping::get;
    /** {@code null} when the owner (a unit test) ticks by hand. */
    private final ScheduledExecutorService scheduler;
    private volatile Settings settings;
    /** Guarded by {@code this}. */
    private ScheduledFuture<?> tickTask;
    /** Tick thread only. */
    private long lastSweepNanos;

    /**
     * Validates the whole configuration first: unknown keys, values of the wrong type and out of
     * range values are rejected (ERROR with the reason) and the component does not start.
     */
    @Activate
    public CorrelationEngine(Config config, Map<String, Object> properties, @Reference(name = "router") Router router) {
        this(config, properties, router, System::currentTimeMillis, System::nanoTime, true);
    }

    /** Without the raw properties (benchmarks): values are checked, keys are not. */
    public CorrelationEngine(Config config, Router router) {
        this(config, Map.of(), router, System::currentTimeMillis, System::nanoTime, true);
    }

    CorrelationEngine(Config config, Router router, LongSupplier millisClock, LongSupplier nanoClock, boolean tick) {
        this(config, Map.of(), router, millisClock, nanoClock, tick);
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
        String problem = problems(config, properties);
        if (problem != null) {
            String message = ConfigCheck.rejection(Ingest.PID, properties, problem);
            LOG.error("{}", message);
            throw new ConfigCheck.Rejected(message);
        }
        this.nanoClock = nanoClock;
        Settings s = new Settings(config);
        this.settings = s;
        this.traces = new InMemoryTraceStore(s.maxTraces, s.ttlMillis, s.maxSpans, s.maxPerSpan, s.maxMessages,
                millisClock);
        this.lastSweepNanos = nanoClock.getAsLong();
        if (tick) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "signalbox-correlation-tick");
                t.setDaemon(true);
                return t;
            });
            schedule(s);
        } else {
            scheduler = null;
        }
        LOG.info("Correlation started: {}", s);
    }

    /**
     * Applies a changed configuration live (buffers and traces are kept), or, if it is invalid,
     * logs why at ERROR and keeps the configuration in force.
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
                    ConfigCheck.rejection(Ingest.PID, properties, problem), settings);
            return false;
        }
        Settings old = settings;
        Settings s = new Settings(config);
        settings = s;
        traces.configure(s.maxTraces, s.ttlMillis, s.maxSpans, s.maxPerSpan, s.maxMessages);
        if (scheduler != null && s.tickMillis != old.tickMillis) {
            schedule(s);
        }
        LOG.info("Correlation reconfigured: {}", s);
        if (inflight.get() <= s.resumeThreshold) {
            runWritableCallbacks();
        }
        return true;
    }

    /** Everything wrong with a configuration (keys, types, ranges), or {@code null} if it is valid. */
    static String problems(Config config, Map<String, ?> properties) {
        String keysAndTypes = ConfigCheck.keysAndTypes(Config.class, config, properties);
        return keysAndTypes != null ? keysAndTypes : Settings.problems(config);
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
        if (scheduler != null) {
            scheduler.shutdown();
            try {
                if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("Correlation tick did not finish within 5 s of shutdown");
                }
            } catch (InterruptedException e) {
                LOG.warn("Interrupted while waiting for the correlation tick to finish", e);
                Thread.currentThread().interrupt();
            }
        }
        // a tick that was running cut its batches itself; anything appended meanwhile was forced
        flushAll(FlushReason.SHUTDOWN);
        runWritableCallbacks();
        LOG.info("Correlation stopped: {} messages ingested, {} in flight to routing", ingested.sum(), inflight.get());
    }

    // ---------------------------------------------------------------- Ingest

    @Override
    public boolean offer(Message message) {
        long now = inflight.incrementAndGet();
        ingested.increment();
        Settings s = settings;
        if (message.traceId() != null) {
            traces.record(message);
        }
        String source = message.source();
        for (;;) {
            SourceBuffer buffer = buffers.get(source);
            if (buffer == null) {
                buffer = buffers.computeIfAbsent(source,
                        src -> new SourceBuffer(src, nanoClock.getAsLong(), flushCounters, isStopping, receivedCounter(src)));
            }
            Batch batch = buffer.append(message, s.batchSize, nanoClock);
            if (batch == SourceBuffer.RETIRED) {
                buffers.remove(source, buffer);
                continue;
            }
            if (batch != null) {
                routeInOrder(buffer, batch);
            }
            return now < s.capacity;
        }
    }

    @Override
    public boolean isWritable() {
        return inflight.get() < settings.capacity;
    }

    /**
     * Runs {@code callback} on the calling thread if in-flight is already at or below the resume
     * level ({@code queue.capacity × resume.ratio}); otherwise on the thread whose delivery brings
     * it there (a routing thread), or on the tick thread. Between the resume level and the
     * capacity {@link #isWritable()} is true but a paused transport is not resumed yet: that gap
     * keeps a busy pipeline from pausing and resuming on every batch.
     */
    @Override
    public void whenWritable(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        if (inflight.get() <= settings.resumeThreshold) {
            runCallback(callback);
            return;
        }
        writableCallbacks.add(callback);
        // a delivery may have crossed the threshold between the check and the add
        if (inflight.get() <= settings.resumeThreshold) {
            runWritableCallbacks();
        }
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
    public Map<String, Number> stats() {
        Map<String, Number> m = new LinkedHashMap<>();
        m.put("signalbox_messages_ingested_total", ingested.sum());
        m.put("signalbox_pipeline_inflight", inflight.get());
        m.put("signalbox_pipeline_capacity", settings.capacity);
        for (FlushReason reason : FlushReason.values()) {
            m.put("signalbox_batches_flushed_total{reason=\"" + reason.label() + "\"}", flushCounters.get(reason));
        }
        m.put("signalbox_sources_active", buffers.size());
        m.put("signalbox_traces_held", traces.size());
        m.put("signalbox_traces_evicted_total", traces.evictedByTtl() + traces.evictedByCapacity());
        m.put("signalbox_spans_dropped_total", traces.spansDropped());
        m.put("signalbox_messages_route_failed_total", routeFailed.sum());
        receivedBySource.forEach((source, received) -> {
            String label = "{source=\"" + escapeLabel(source) + "\"}";
            SourceBuffer buffer = buffers.get(source);
            m.put("signalbox_messages_received_total" + label, received.get());
            m.put("signalbox_buffer_size" + label, buffer == null ? 0 : buffer.pending());
        });
        if (receivedOther.get() > 0) {
            m.put("signalbox_messages_received_total{source=\"" + OTHER_SOURCES + "\"}", receivedOther.get());
        }
        return m;
    }

    /**
     * The received counter of {@code source}, kept across its buffers; sources beyond
     * {@link #MAX_SOURCE_SERIES} share one counter, labelled {@value #OTHER_SOURCES}, so that a
     * client inventing source names cannot grow the metrics without bound.
     */
    private AtomicLong receivedCounter(String source) {
        AtomicLong c = receivedBySource.get(source);
        if (c != null) {
            return c;
        }
        if (receivedBySource.size() >= MAX_SOURCE_SERIES) {
            return receivedOther;
        }
        return receivedBySource.computeIfAbsent(source, s -> new AtomicLong());
    }

    /** A Prometheus label value: backslash, double quote and newline escaped. */
    static String escapeLabel(String value) {
        StringBuilder b = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            String esc = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : null;
            if (esc != null && b == null) {
                b = new StringBuilder(value.length() + 8).append(value, 0, i);
            }
            if (b != null) {
                if (esc != null) {
                    b.append(esc);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? value : b.toString();
    }

    // ---------------------------------------------------------------- internals

    /**
     * One scheduler round: age flushes, idle sources, and (once a second) the trace sweep. While
     * a transport waits for room, every buffer counts as aged, so messages held back by
     * {@code batch.size} cannot keep it paused for a whole flush interval.
     */
    void tick() {
        Settings s = settings;
        long now = nanoClock.getAsLong();
        long maxAge = writableCallbacks.isEmpty() ? s.flushIntervalNanos : 0;
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
            route(b);
        }
    }

    private void route(Batch batch) {
        Delivery delivery = new Delivery(batch.size());
        try {
            router.route(batch, delivery);
        } catch (RuntimeException e) {
            routeFailed.add(batch.size());
            problems.error("route", "Router failed on a batch of {} messages of source {}; the batch is lost",
                    batch.size(), batch.source(), e);
            delivery.run();
        }
    }

    private void delivered(int count) {
        long left = inflight.addAndGet(-count);
        if (left <= settings.resumeThreshold && !writableCallbacks.isEmpty()) {
            runWritableCallbacks();
        }
    }

    private void runWritableCallbacks() {
        Runnable callback;
        while ((callback = writableCallbacks.poll()) != null) {
            runCallback(callback);
        }
    }

    private void runCallback(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            problems.error("writable-callback", "A whenWritable callback failed", e);
        }
    }

    private synchronized void schedule(Settings s) {
        if (tickTask != null) {
            tickTask.cancel(false);
        }
        tickTask = scheduler.scheduleWithFixedDelay(this::tickSafely, s.tickMillis, s.tickMillis, TimeUnit.MILLISECONDS);
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            // an exception would cancel the schedule: log it and tick again next time
            problems.error("tick", "Correlation tick failed", e);
        }
    }

    /** The {@code delivered} callback of one batch: releases its messages once. */
    private final class Delivery extends AtomicBoolean implements Runnable {
        private static final long serialVersionUID = 1L;
        private final int size;

        Delivery(int size) {
            this.size = size;
        }

        @Override
        public void run() {
            if (compareAndSet(false, true)) {
                delivered(size);
            } else {
                problems.warn("delivered-twice", "A batch's delivered callback ran more than once; ignored");
            }
        }
    }

    /** Effective configuration, validated, swapped as a whole. */
    static final class Settings {
        final int batchSize;
        final long flushIntervalNanos;
        final long tickMillis;
        final int capacity;
        final double resumeRatio;
        final long resumeThreshold;
        final int maxTraces;
        final long ttlMillis;
        final int maxSpans;
        final int maxPerSpan;
        final int maxMessages;
        private final long flushIntervalMillis;

        /** {@code c} must have passed {@link #problems}. */
        Settings(Config c) {
            batchSize = c.batch_size();
            flushIntervalMillis = c.flush_interval_ms();
            flushIntervalNanos = TimeUnit.MILLISECONDS.toNanos(flushIntervalMillis);
            tickMillis = Math.max(MIN_TICK_MILLIS, Math.min(flushIntervalMillis / 4, MAX_TICK_MILLIS));
            capacity = c.queue_capacity();
            resumeRatio = c.resume_ratio();
            resumeThreshold = (long) Math.floor(capacity * resumeRatio);
            maxTraces = c.trace_max_traces();
            ttlMillis = TimeUnit.SECONDS.toMillis(c.trace_ttl_seconds());
            maxSpans = c.trace_max_spans();
            maxPerSpan = c.trace_max_messages_per_span();
            maxMessages = c.trace_max_messages();
        }

        /** Out of range values, or {@code null}. */
        static String problems(Config c) {
            List<String> out = new ArrayList<>();
            atLeast(out, "batch.size", c.batch_size(), 1);
            atLeast(out, "flush.interval.ms", c.flush_interval_ms(), 1);
            atLeast(out, "queue.capacity", c.queue_capacity(), 1);
            double ratio = c.resume_ratio();
            if (!(ratio >= 0 && ratio <= 1)) {
                out.add("resume.ratio must be within 0..1, is " + ratio);
            }
            atLeast(out, "trace.max.traces", c.trace_max_traces(), 1);
            atLeast(out, "trace.ttl.seconds", c.trace_ttl_seconds(), 1);
            atLeast(out, "trace.max.spans", c.trace_max_spans(), 0);
            atLeast(out, "trace.max.messages.per.span", c.trace_max_messages_per_span(), 0);
            atLeast(out, "trace.max.messages", c.trace_max_messages(), 0);
            return out.isEmpty() ? null : String.join("; ", out);
        }

        private static void atLeast(List<String> out, String key, long value, long min) {
            if (value < min) {
                out.add(key + " must be >= " + min + ", is " + value);
            }
        }

        @Override
        public String toString() {
            return "batch.size=" + batchSize + ", flush.interval.ms=" + flushIntervalMillis
                    + ", queue.capacity=" + capacity + ", resume.ratio=" + resumeRatio
                    + ", trace.max.traces=" + maxTraces + ", trace.ttl.seconds=" + ttlMillis / 1000
                    + ", trace.max.spans=" + maxSpans + ", trace.max.messages.per.span=" + maxPerSpan
                    + ", trace.max.messages=" + maxMessages;
        }
    }
}
