package io.signalbox.metrics.store.internal;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
    private final DuckStore store;
    private final Globs sources;
    private final Globs names;
    private final ScheduledExecutorService scheduler;
    private final RateLimitedLog invalidLog = new RateLimitedLog(LOG);
    private final LongAdder skipped = new LongAdder();
    private final LongAdder filtered = new LongAdder();
    private final LongAdder invalid = new LongAdder();
    private final LongAdder disabledDropped = new LongAdder();
    private final LongAdder seriesLimited = new LongAdder();

    @Activate
    public MetricStoreComponent(StoreConfig config) throws Exception {
        this(config, true);
    }

    /** @param schedule false in tests that drive flush and retention themselves */
    MetricStoreComponent(StoreConfig config, boolean schedule) throws Exception {
        this.config = config;
        validate(config);
        this.sources = new Globs(config.sources());
        this.names = new Globs(config.names());
        if (!config.enabled()) {
            store = null;
            scheduler = null;
            LOG.info("metrics store disabled: metric messages routed to it are counted and discarded");
            return;
        }
        Path dir = Path.of(config.path()).toAbsolutePath();
        store = new DuckStore(new DuckStore.Settings(dir, config.retention_days(), config.max_size_mb() * 1024 * 1024,
                config.memory_limit_mb(), config.threads(), config.query_max_samples(), config.max_series(),
                config.compact_window_ms()));
        LOG.info("metrics store started: {} ({} series), retention {} days, cap {} MiB, flush every {} ms, "
                + "memory limit {} MiB, sources {}, names {}", dir.resolve(DuckStore.FILE), store.seriesCount(),
                config.retention_days(), config.max_size_mb(), config.flush_interval_ms(), config.memory_limit_mb(),
                String.join(",", config.sources()), String.join(",", config.names()));
        if (schedule) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "signalbox-metrics-store");
                t.setDaemon(true);
                return t;
            });
            // full column chunks go to the Appender on this thread, beside the commits, not on routing's
            store.handOffTo(scheduler);
            scheduler.scheduleWithFixedDelay(this::flushQuietly, config.flush_interval_ms(), config.flush_interval_ms(),
                    TimeUnit.MILLISECONDS);
            scheduler.scheduleWithFixedDelay(this::retentionQuietly, 0, config.retention_check_interval_ms(),
                    TimeUnit.MILLISECONDS);
        } else {
            scheduler = null;
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
        if (store != null) {
            store.close();
            LOG.info("metrics store stopped");
        }
    }

    // ---- MetricStore (alerting reads through this) -----------------------------------------------

    @Override
    public boolean enabled() {
        return store != null;
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
        if (store == null) {
            throw new PromQLException("execution", "the metrics store is disabled (enabled=false in etc/" + PID + ".cfg)");
        }
        return store;
    }

    /** The store, or {@code null} when disabled. */
    DuckStore store() {
        return store;
    }

    StoreConfig config() {
        return config;
    }

    /** A PromQL engine on the store; {@code null} when disabled. */
    Engine engine() {
        return store == null ? null : new Engine(store, config.lookback_delta_ms());
    }

    /** Commits now (tests and benchmarks). */
    void flush() throws SQLException {
        store.flush();
    }
}
