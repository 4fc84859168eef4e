package io.signalbox.http.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import io.signalbox.api.LatencyHistogram;
import io.signalbox.api.StatsSource;

/**
 * Series shaped like the real components' (transport, HTTP ingest, correlation, routing,
 * configuration, a backend), by component name. {@code typical-series.prom} and
 * {@code typical-series.om} next to this class are what /metrics wrote for them before the
 * metrics were typed (Map keys parsed back), so the typed path must write them byte for byte.
 */
final class TypicalSeries {
    private TypicalSeries() {
    }

    static Map<String, StatsSource> byComponent() {
        Map<String, StatsSource> sources = new TreeMap<>();
        sources.put("io.signalbox.transport.tcp", sink -> {
            sink.gauge("signalbox_active_connections", 2);
            sink.counter("signalbox_transport_messages_received_total", 1234, "transport", "tcp");
            sink.counter("signalbox_messages_dropped_total", 3, "reason", "malformed");
            sink.counter("signalbox_messages_dropped_total", 1, "reason", "too_long");
        });
        sources.put("io.signalbox.http.ingest", sink -> {
            sink.counter("signalbox_transport_messages_received_total", 5, "transport", "http");
            sink.counter("signalbox_messages_dropped_total", 2, "reason", "malformed");
            sink.counter("signalbox_http_ingest_requests_total", 4, "status", "202");
        });
        sources.put("io.signalbox.correlation", sink -> {
            sink.counter("signalbox_messages_received_total", 1200, "source", "billing");
            sink.counter("signalbox_messages_received_total", 34, "source", "odd \"name\" \\ here");
            sink.gauge("signalbox_buffer_size", 17, "source", "billing");
            sink.gauge("signalbox_buffer_size", 1, "source", "we\"ird\\src\nx");
            sink.gauge("signalbox_pipeline_inflight", 40);
            sink.counter("signalbox_batches_flushed_total", 12, "reason", "size");
        });
        sources.put("io.signalbox.routing", sink -> {
            for (String backend : new String[] { "files", "db" }) {
                sink.counter("signalbox_messages_routed_total", 600, "backend", backend);
                sink.gauge("signalbox_backend_breaker_state", 0, "backend", backend);
                sink.gauge("signalbox_spool_bytes", 4096, "backend", backend);
                LatencyHistogram write = new LatencyHistogram();
                write.record(TimeUnit.MILLISECONDS.toNanos(3));
                write.record(TimeUnit.MILLISECONDS.toNanos(40));
                write.collect(sink, "signalbox_backend_latency_seconds", "backend", backend);
                LatencyHistogram pipeline = new LatencyHistogram();
                pipeline.record(TimeUnit.MILLISECONDS.toNanos(250));
                pipeline.collect(sink, "signalbox_pipeline_latency_seconds", "backend", backend);
            }
        });
        sources.put("io.signalbox.http.config.stats", sink -> {
            sink.counter("signalbox_config_reloads_total", 3);
            sink.counter("signalbox_config_errors_total", 1);
            sink.gauge("signalbox_config_last_error_timestamp_seconds", 1.7e9);
        });
        sources.put("io.signalbox.backend.file",
                sink -> sink.counter("signalbox_file_rotations_total", 1, "backend", "files"));
        return sources;
    }

    /** As DS injects them into {@link SidecarServices#statsSources}: service properties and service. */
    static List<Map.Entry<Map<String, ?>, StatsSource>> asServices(Map<String, StatsSource> byComponent) {
        List<Map.Entry<Map<String, ?>, StatsSource>> out = new ArrayList<>();
        byComponent.forEach((name, source) -> out.add(service(name, source)));
        return out;
    }

    /** One service with its {@code component.name}. */
    static Map.Entry<Map<String, ?>, StatsSource> service(String componentName, StatsSource source) {
        return Map.entry(Map.of("component.name", componentName), source);
    }
}
