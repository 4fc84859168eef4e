package io.signalbox.metrics.store.internal;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;
import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.PromQLException;
import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.SeriesData;
import io.signalbox.metrics.store.MetricStore;

/**
 * The metrics store: registered as the backend named {@value #BACKEND_NAME}, to which the shipped
 * global route {@code etc/io.signalbox.route-metrics.cfg} sends every {@code metric} message. So the
 * store sits behind a routing channel like any backend (bounded queue, retry, spool): a slow store
 * never blocks ingest. {@link #write} reads and buffers the points; the store's thread appends full
 * buffers to DuckDB and commits every
 * {@code flush.interval.ms} and enforces retention and the size cap every
 * {@code retention.check.interval.ms}.
 *
 * <p>Changing the configuration re-activates the component (the database is closed and reopened).
 */
@Component(name = MetricStoreComponent.PID, configurationPid = MetricStoreComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true,
        service = { Backend.class, StatsSource.class, MetricStore.class, MetricStoreComponent.class },
        property = { Backend.NAME + "=" + MetricStoreComponent.BACKEND_NAME, Backend.KIND + "=metrics" })
@Designate(ocd = StoreConfig.class)
public final class MetricStoreComponent implements Backend, StatsSource, MetricStore {
    /** Configuration PID. */
    public static final String PID = "io.signalbox.metrics.store";
    /** The backend name routes use. */
    public static final String BACKEND_NAME = "metrics";

    private static final Logger LOG = LoggerFactory.getLogger(MetricStoreComponent.class);

    private final StoreConfig config;
    /** Completed with the store once it is open (on the store's thread); {@code null} when disabled. */
    private final CompletableFuture<DuckStore> opening;
    /** The open store; {@code null} while it opens, when disabled or when the open failed. */
    private volatile DuckStore store;
    private volatile boolean deactivated;
    private final Globs sources;
    private final Globs names;
    private final ScheduledExecutorService scheduler;
    private final RateLimitedLog invalidLog = new RateLimitedLog(LOG);
    private final LongAdder skipped = new LongAdder();
    private final LongAdder filtered = new LongAdder();
    private final LongAdder invalid = new LongAdder();
    private final LongAdder disabledDropped = new LongAdder();
    private final LongAdder seriesLimited = new LongAdder();

    /** How long a write waits for the store to open before it fails (and routing's channel retries). */
    static final long WRITE_WAIT_MS = 2_000;
    /** How long a query waits for the store to open before it answers 503. */
    static final long QUERY_WAIT_MS = 5_000;

    @Activate
    public MetricStoreComponent(StoreConfig config) throws Exception {
        this(config, true);
    }

    /** @param schedule false in tests that drive flush and retention themselves (the store is then opened here) */
    MetricStoreComponent(StoreConfig config, boolean schedule) throws Exception {
        this.config = config;
        validate(config);
        this.sources = new Globs(config.sources());
        this.names = new Globs(config.names());
        if (!config.enabled()) {
            opening = null;
            scheduler = null;
            LOG.info("metrics store disabled: metric messages routed to it are counted and discarded");
            return;
        }
        Path dir = Path.of(config.path()).toAbsolutePath();
        DuckStore.Settings settings = new DuckStore.Settings(dir, config.retention_days(),
                config.max_size_mb() * 1024 * 1024, config.memory_limit_mb(), config.threads(),
                config.query_max_samples(), config.max_series(), config.compact_window_ms());
        if (!schedule) {
            scheduler = null;
            store = new DuckStore(settings);
            opening = CompletableFuture.completedFuture(store);
            logStarted(dir);
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "signalbox-metrics-store");
            t.setDaemon(true);
            return t;
        });
        // Opened on the store's own thread, not the start-level thread: loading DuckDB's native library and
        // opening the file (replaying a long write-ahead log after a crash) must not hold back the TCP port,
        // which opens after this bundle. Writes and queries wait for it (see awaitOpen).
        opening = new CompletableFuture<>();
        scheduler.execute(() -> open(settings, dir));
    }

    /** On the store's thread: opens the database, then schedules commits and retention. */
    private void open(DuckStore.Settings settings, Path dir) {
        DuckStore s;
        try {
            s = new DuckStore(settings);
        } catch (Exception | LinkageError e) { // LinkageError: DuckDB's native library could not be loaded
            LOG.error("metrics store: cannot open {}: {}; metric messages wait in routing's channel for it (queue, "
                    + "then spool) until the cause is fixed and the store restarted (a change of "
                    + "etc/{}.cfg re-opens it); queries answer 503", dir.resolve(DuckStore.FILE), e.toString(), PID, e);
            opening.completeExceptionally(e);
            return;
        }
        if (deactivated) { // stopped while it opened
            s.close();
            opening.completeExceptionally(new IllegalStateException("metrics store stopped"));
            return;
        }
        // full column chunks go to the Appender on this thread, beside the commits, not on routing's
        s.handOffTo(scheduler);
        store = s; // from here deactivate() closes it
        try {
            scheduler.scheduleWithFixedDelay(this::flushQuietly, config.flush_interval_ms(), config.flush_interval_ms(),
                    TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(this::retentionQuietly, 0, config.retention_check_interval_ms(),
                    TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) { // deactivated meanwhile
            opening.completeExceptionally(e);
            return;
        }
        logStarted(dir);
        opening.complete(s);
    }

    private void logStarted(Path dir) {
        LOG.info("metrics store started: {} ({} series), retention {} days, cap {} MiB, flush every {} ms, "
                + "memory limit {} MiB, sources {}, names {}", dir.resolve(DuckStore.FILE), store.seriesCount(),
                config.retention_days(), config.max_size_mb(), config.flush_interval_ms(), config.memory_limit_mb(),
                String.join(",", config.sources()), String.join(",", config.names()));
    }

    /**
     * The open store, waiting up to {@code waitMs} for the open that activation started; {@code null} when
     * the store is disabled.
     *
     * @throws StoreUnavailableException if the open failed, or is still running after {@code waitMs}
     */
    private DuckStore awaitOpen(long waitMs) {
        if (opening == null) {
            return null;
        }
        DuckStore s = store;
        if (s != null) {
            return s;
        }
        try {
            return opening.get(waitMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new StoreUnavailableException("the metrics store could not be opened: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new StoreUnavailableException("the metrics store is still opening (DuckDB loading or replaying its "
                    + "write-ahead log); try again shortly", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while waiting for the metrics store to open", e);
        }
    }

    /** The store cannot answer now: its open failed or has not finished (HTTP 503). */
    static final class StoreUnavailableException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StoreUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void validate(StoreConfig c) {
        StringBuilder problems = new StringBuilder();
        if (c.retention_days() < 1) {
            problems.append(" retention.days must be >= 1;");
        }
        if (c.max_size_mb() < 0) {
            problems.append(" max.size.mb must be >= 0;");
        }
        if (c.flush_interval_ms() < 1) {
            problems.append(" flush.interval.ms must be >= 1;");
        }
        if (c.retention_check_interval_ms() < 1000) {
            problems.append(" retention.check.interval.ms must be >= 1000;");
        }
        if (c.memory_limit_mb() < 16) {
            problems.append(" memory.limit.mb must be >= 16;");
        }
        if (c.threads() < 1) {
            problems.append(" threads must be >= 1;");
        }
        if (c.post_max_bytes() < 64) {
            problems.append(" post.max.bytes must be >= 64;");
        }
        if (c.query_max_samples() < 1) {
            problems.append(" query.max.samples must be >= 1;");
        }
        if (c.compact_window_ms() < 0) {
            problems.append(" compact.window.ms must be >= 0;");
        }
        if (c.path().isBlank()) {
            problems.append(" path must not be empty;");
        }
        if (problems.length() > 0) {
            String msg = "configuration " + PID + " rejected:" + problems;
            LOG.error(msg);
            throw new IllegalArgumentException(msg);
        }
    }

    /** Appends the batch's metric messages (others are skipped). Committed by the next flush. */
    @Override
    public void write(Batch batch) throws SQLException {
        DuckStore store;
        try {
            store = awaitOpen(WRITE_WAIT_MS);
        } catch (StoreUnavailableException e) {
            // the channel retries (backing off) and spools meanwhile: nothing is lost while it opens
            throw new SQLException(e.getMessage(), e);
        }
        if (store == null) {
            disabledDropped.add(batch.size());
            return;
        }
        if (!sources.matches(batch.source())) {
            filtered.add(batch.size());
            return;
        }
        for (Message m : batch.messages()) {
            if (m.type() != MessageType.METRIC) {
                skipped.increment();
            }
        }
        store.appendBatch(batch.source(), batch.messages(), names, outcome);
    }

    /** Counts and logs what {@link DuckStore#appendBatch} did not store. */
    private final DuckStore.Outcome outcome = new DuckStore.Outcome() {
        @Override
        public void invalid(Message m, String reason) {
            invalid.increment();
            invalidLog.warn("invalid", "metrics store: a metric from {} not stored: {}", m.source(), reason);
        }

        @Override
        public void filtered() {
            filtered.increment();
        }

        @Override
        public void seriesLimited(String name, String source) {
            seriesLimited.increment();
            invalidLog.warn("series limit", "metrics store: {} series stored, max.series reached: a point of a new "
                    + "series ({} from {}) is not stored", store.seriesCount(), name, source);
        }
    };

    private void flushQuietly() {
        try {
            store.flush();
        } catch (SQLException | RuntimeException e) {
            LOG.error("metrics store: commit failed", e);
        }
    }

    private void retentionQuietly() {
        try {
            store.enforceRetention(System.currentTimeMillis());
        } catch (SQLException | RuntimeException e) {
            LOG.error("metrics store: retention failed", e);
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        sink.counter("signalbox_metrics_store_skipped_total", skipped.sum() + filtered.sum() + disabledDropped.sum());
        sink.counter("signalbox_metrics_store_invalid_total", invalid.sum());
        sink.counter("signalbox_metrics_store_series_limited_total", seriesLimited.sum());
        DuckStore store = this.store; // null while opening: its counters appear once it is open
        if (store != null) {
            sink.counter("signalbox_metrics_store_points_total", store.appended.sum());
            sink.counter("signalbox_metrics_store_retention_deleted_total", store.retentionDeleted.sum());
            sink.counter("signalbox_metrics_store_commits_total", store.flushes.sum());
            sink.counter("signalbox_metrics_store_compacted_points_total", store.compacted.sum());
            sink.counter("signalbox_metrics_store_slow_parses_total", store.fallbackParses.sum());
            sink.gauge("signalbox_metrics_store_series", store.seriesCount());
            sink.gauge("signalbox_metrics_store_used_bytes", store.usedBytes());
            sink.gauge("signalbox_metrics_store_file_bytes", store.fileBytes());
        }
    }

    @Deactivate
    void deactivate() {
        deactivated = true;
        if (scheduler != null) {
            scheduler.shutdown();
            try {
                if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("metrics store: flush/retention still running after 10 s; closing anyway");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        DuckStore s = store;
        if (s != null) {
            s.close();
            LOG.info("metrics store stopped");
        } else if (opening != null && !opening.isDone()) {
            LOG.warn("metrics store: stopped while still opening; the opening thread closes it when done");
        }
    }

    // ---- MetricStore (alerting reads through this) -----------------------------------------------

    @Override
    public boolean enabled() {
        return opening != null;
    }

    @Override
    public long lookbackDeltaMs() {
        return config.lookback_delta_ms();
    }

    @Override
    public LabeledSample sampleOf(Message m) {
        if (m.type() != MessageType.METRIC || !sources.matches(m.source())) {
            return null;
        }
        MetricLine line;
        MetricScanner sc = new MetricScanner();
        if (sc.scan(m.line())) {
            line = sc.toMetricLine(); // one pass over the bytes, no Jackson (alerting calls this per metric)
        } else {
            try {
                line = MetricLine.parse(m.line());
            } catch (MetricLine.Invalid e) {
                return null; // the store counts and logs it when the message reaches it
            }
        }
        if (!names.matches(line.name())) {
            return null;
        }
        return new LabeledSample(Series.labelsOf(line.name(), m.source(), line.tags()), m.timestamp(), line.value());
    }

    @Override
    public List<SeriesData> select(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        return open().select(matchers, fromExclusive, toInclusive);
    }

    @Override
    public List<Sample> latest(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        return open().latest(matchers, fromExclusive, toInclusive);
    }

    @Override
    public List<Sample> overTime(String fn, double param, List<Matcher> matchers, long fromExclusive, long toInclusive) {
        return open().overTime(fn, param, matchers, fromExclusive, toInclusive);
    }

    private DuckStore open() {
        DuckStore s;
        try {
            s = awaitOpen(QUERY_WAIT_MS);
        } catch (StoreUnavailableException e) {
            throw new PromQLException("execution", e.getMessage());
        }
        if (s == null) {
            throw new PromQLException("execution", "the metrics store is disabled (enabled=false in etc/" + PID + ".cfg)");
        }
        return s;
    }

    /**
     * The store, once open (waiting up to {@link #QUERY_WAIT_MS} for it), or {@code null} when disabled.
     *
     * @throws StoreUnavailableException if it could not be opened or is still opening
     */
    DuckStore store() {
        return awaitOpen(QUERY_WAIT_MS);
    }

    StoreConfig config() {
        return config;
    }

    /** A PromQL engine on the store; {@code null} when disabled. */
    Engine engine() {
        DuckStore s = store();
        return s == null ? null : new Engine(s, config.lookback_delta_ms());
    }

    /** Commits now (tests and benchmarks). */
    void flush() throws SQLException {
        store().flush();
    }
}
