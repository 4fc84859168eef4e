package io.signalbox.metrics.store.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the metrics store, PID {@value MetricStoreComponent#PID} (etc/io.signalbox.metrics.store.cfg). */
@ObjectClassDefinition(name = "Signalbox metrics store",
        description = "Embedded time-series store (DuckDB) of every metric message; POST /metrics, GET /query, /api/v1/*.")
public @interface StoreConfig {
    @AttributeDefinition(description = "false: metric messages routed to the store are counted and discarded; the query endpoints answer 503.", required = false)
    boolean enabled() default true;

    @AttributeDefinition(description = "Folder of the database (metrics.duckdb + its WAL); relative paths are relative to the working directory.", required = false)
    String path() default "data/metrics";

    @AttributeDefinition(description = "Points older than this many days are deleted (checked every retention.check.interval.ms).", required = false)
    int retention_days() default 15;

    @AttributeDefinition(description = "Size cap of the stored data in MiB: above it the oldest points are deleted. 0 = no cap.", required = false)
    long max_size_mb() default 2048;

    @AttributeDefinition(description = "How often retention and the size cap are enforced and a checkpoint is written, in ms.", required = false)
    long retention_check_interval_ms() default 60000;

    @AttributeDefinition(description = "Appended points are committed (to DuckDB's write-ahead log) at least this often, in ms: what a kill -9 can lose at most.", required = false)
    long flush_interval_ms() default 1000;

    @AttributeDefinition(description = "Source globs (* and ?) whose metrics are stored.", required = false)
    String[] sources() default {"*"};

    @AttributeDefinition(description = "Metric name globs (* and ?) that are stored.", required = false)
    String[] names() default {"*"};

    @AttributeDefinition(description = "DuckDB memory_limit in MiB (bounds the store's native memory).", required = false)
    int memory_limit_mb() default 256;

    @AttributeDefinition(description = "At most this many series (name + source + tags): a point of a new series beyond it is not stored, counted in signalbox_metrics_store_series_limited_total and logged (a tag with a value per message, such as a request id, would otherwise make a series per point).", required = false)
    int max_series() default 100000;

    @AttributeDefinition(description = "Compaction (opt-in): at every retention check, the points of each whole window of this many ms that ended at least one window ago are rewritten ordered by (series, time); selective scans get faster, but on DuckDB 2.0.0.1 the file gets bigger (5.4 instead of 4.4 bytes a point with day windows, see load/README.md). 0 = never (the default: points stay in arrival order).", required = false)
    long compact_window_ms() default 0;

    @AttributeDefinition(description = "DuckDB worker threads for queries: while only ingest runs DuckDB uses one (cheaper a point); a running query raises it to this.", required = false)
    int threads() default 2;

    @AttributeDefinition(description = "POST /metrics: largest request body in bytes (413 above).", required = false)
    int post_max_bytes() default 1048576;

    @AttributeDefinition(description = "POST /metrics: source of points that name none.", required = false)
    String post_default_source() default "http";

    @AttributeDefinition(description = "Most samples one PromQL query or GET /query may load (Prometheus' query.max-samples).", required = false)
    long query_max_samples() default 50000000;

    @AttributeDefinition(description = "PromQL lookback delta in ms: how far back an instant selector looks for the latest sample.", required = false)
    long lookback_delta_ms() default 300000;
}
