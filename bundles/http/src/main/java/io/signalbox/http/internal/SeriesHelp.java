package io.signalbox.http.internal;

import java.util.Map;

/**
 * HELP texts of the Signalbox metric families (by family name: counters without {@code _total},
 * histograms without {@code _bucket}). A family not listed here gets a generic text naming the
 * components that publish it, so every family has one (promtool insists).
 */
final class SeriesHelp {
    private SeriesHelp() {
    }

    private static final Map<String, String> HELP = Map.ofEntries(
            // transports and ingest
            Map.entry("signalbox_messages_received", "Messages accepted into the pipeline, per source."),
            Map.entry("signalbox_transport_messages_received", "Messages decoded and offered to the pipeline, per transport."),
            Map.entry("signalbox_messages_dropped", "Messages dropped before the pipeline, per reason (malformed, too_long, missing_field, ...)."),
            Map.entry("signalbox_active_connections", "Open client connections."),
            Map.entry("signalbox_tcp_connections_active", "Open TCP client connections."),
            Map.entry("signalbox_tcp_connections_accepted", "TCP connections accepted."),
            Map.entry("signalbox_tcp_connections_refused", "TCP connections refused (over max.connections)."),
            Map.entry("signalbox_tcp_bytes_received", "Bytes read from TCP clients."),
            Map.entry("signalbox_tcp_read_suspensions", "Times the TCP transport stopped reading because the pipeline was full."),
            // correlation
            Map.entry("signalbox_buffer_size", "Messages waiting in the per-source buffer, per source."),
            Map.entry("signalbox_messages_ingested", "Messages accepted by the correlation stage, all sources."),
            Map.entry("signalbox_pipeline_inflight", "Messages accepted and not yet written (or spooled) by every backend their routes name."),
            Map.entry("signalbox_pipeline_capacity", "In-flight messages above which ingest pushes back (queue.capacity)."),
            Map.entry("signalbox_pipeline_inflight_bytes", "Weight of the messages in flight: their lines plus the objects that carry them (~100 bytes each)."),
            Map.entry("signalbox_pipeline_capacity_bytes", "In-flight weight above which ingest pushes back (queue.max.mb)."),
            Map.entry("signalbox_batches_flushed", "Batches cut from per-source buffers, per reason (size, age, critical, shutdown)."),
            Map.entry("signalbox_sources_active", "Sources with a live buffer."),
            Map.entry("signalbox_traces_held", "Traces held in memory by the trace store."),
            Map.entry("signalbox_traces_evicted", "Traces evicted from the trace store (age or capacity)."),
            Map.entry("signalbox_spans_dropped", "Spans not kept because their trace had trace.max.spans."),
            Map.entry("signalbox_messages_route_failed", "Messages whose batch the router failed on."),
            // routing and channels
            Map.entry("signalbox_messages_routed", "Messages written by a backend, per backend."),
            Map.entry("signalbox_messages_unrouted", "Messages no enabled route matched."),
            Map.entry("signalbox_routing_rejected_messages", "Messages the router refused."),
            Map.entry("signalbox_routes_configured", "Routes in the routing table."),
            Map.entry("signalbox_batches_held", "Batches held by the router."),
            Map.entry("signalbox_channel_queued_messages", "Messages queued in memory for a backend, per backend."),
            Map.entry("signalbox_channel_in_flight_batches", "Batches written to an asynchronous backend and not acknowledged yet, per backend."),
            Map.entry("signalbox_channel_waiting_for_backend", "1 while a route names a backend that is not deployed, per backend."),
            Map.entry("signalbox_backend_latency_seconds", "Time of one backend write (one batch), per backend."),
            Map.entry("signalbox_pipeline_latency_seconds", "Receipt of a batch's oldest message to the backend's commit, per backend."),
            Map.entry("signalbox_backend_write_failures", "Failed backend writes (retried or spooled), per backend."),
            Map.entry("signalbox_backend_batches_written", "Batches a backend wrote, per backend."),
            Map.entry("signalbox_backend_breaker_state", "Circuit breaker per backend: 0 closed, 1 half-open, 2 open."),
            Map.entry("signalbox_backend_breaker_opened", "Times a backend's circuit breaker opened."),
            Map.entry("signalbox_backend_state", "Backend state: 0 up, 1 degraded, 2 breaker open, 3 waiting for its bundle."),
            Map.entry("signalbox_spool_bytes", "Bytes in a backend's disk spool, per backend."),
            Map.entry("signalbox_spool_messages", "Messages in a backend's disk spool, per backend."),
            Map.entry("signalbox_spool_dropped_messages", "Messages dropped because a backend's spool was full."),
            Map.entry("signalbox_spool_corrupt_records", "Damaged spool records skipped on replay."),
            Map.entry("signalbox_spool_ignored_files", "Foreign or damaged files found in a backend's spool directory."),
            Map.entry("signalbox_spool_appended_messages", "Messages written to a backend's spool."),
            Map.entry("signalbox_spool_replayed_messages", "Messages replayed from a backend's spool."),
            Map.entry("signalbox_deadletter_messages", "Messages a backend rejected for good, kept in dead-letter files."),
            // configuration and this endpoint
            Map.entry("signalbox_config_reloads", "Signalbox configurations updated or deleted in Config Admin since start."),
            Map.entry("signalbox_config_errors", "Configurations rejected by a component since start."),
            Map.entry("signalbox_config_last_error_timestamp_seconds", "When a configuration was last rejected (Unix time; 0 = never)."),
            Map.entry(StatsCollector.SKIPPED, "Stats series this /metrics answer left out (invalid name or labels, bad value, conflicting type)."),
            Map.entry(StatsCollector.FAILURES, "Times a component's stats could not be read for /metrics."));

    /** The HELP text of {@code family}; {@code publishers} names who published it when it is not known. */
    static String of(String family, String publishers) {
        String h = HELP.get(family);
        return h != null ? h : "Signalbox series from " + publishers + ".";
    }
}
