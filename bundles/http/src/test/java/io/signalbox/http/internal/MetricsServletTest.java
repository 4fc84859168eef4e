package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.signalbox.api.LatencyHistogram;
import io.signalbox.api.StatsSource;

/** The servlet in a real Jetty 12 on 127.0.0.1 and a free port. */
class MetricsServletTest {
    private MetricsServlet servlet;
    private ApiTestServer server;

    @BeforeEach
    void start() throws Exception {
        servlet = new MetricsServlet();
        server = ApiTestServer.of(servlet, MetricsServlet.PATH);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /** Stats shaped like the real components' (transport, correlation, routing, config). */
    static void bindTypicalSources(MetricsServlet servlet) {
        servlet.bindStatsSource(() -> Map.of("signalbox_active_connections", 2,
                "signalbox_transport_messages_received_total{transport=\"tcp\"}", 1234L,
                "signalbox_messages_dropped_total{reason=\"malformed\"}", 3L,
                "signalbox_messages_dropped_total{reason=\"too_long\"}", 1L),
                Map.of("component.name", "io.signalbox.transport.tcp"));
        servlet.bindStatsSource(() -> Map.of("signalbox_messages_received_total{source=\"billing\"}", 1200L,
                "signalbox_messages_received_total{source=\"odd \\\"name\\\" \\\\ here\"}", 34L,
                "signalbox_buffer_size{source=\"billing\"}", 17, "signalbox_pipeline_inflight", 40,
                "signalbox_batches_flushed_total{reason=\"size\"}", 12L),
                Map.of("component.name", "io.signalbox.correlation"));
        servlet.bindStatsSource(() -> {
            Map<String, Number> m = new LinkedHashMap<>();
            for (String backend : new String[] { "files", "db" }) {
                String label = "{backend=\"" + backend + "\"}";
                m.put("signalbox_messages_routed_total" + label, 600L);
                m.put("signalbox_backend_breaker_state" + label, 0);
                m.put("signalbox_spool_bytes" + label, 4096L);
                LatencyHistogram write = new LatencyHistogram();
                write.record(TimeUnit.MILLISECONDS.toNanos(3));
                write.record(TimeUnit.MILLISECONDS.toNanos(40));
                write.putInto(m, "signalbox_backend_latency_seconds", "backend=\"" + backend + "\"");
                LatencyHistogram pipeline = new LatencyHistogram();
                pipeline.record(TimeUnit.MILLISECONDS.toNanos(250));
                pipeline.putInto(m, "signalbox_pipeline_latency_seconds", "backend=\"" + backend + "\"");
            }
            return m;
        }, Map.of("component.name", "io.signalbox.routing"));
        servlet.bindStatsSource(new ConfigStats(), Map.of("component.name", ConfigStats.NAME));
    }

    @Test
    void getMetricsAnswersPrometheusTextWithJvmAndSignalboxSeries() throws Exception {
        bindTypicalSources(servlet);
        HttpResponse<String> r = server.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/plain").contains("version=0.0.4"));
        assertThat(r.body()).contains("# TYPE jvm_memory_used_bytes gauge", "process_cpu_seconds_total",
                "signalbox_messages_received_total{source=\"billing\"} 1200.0",
                "signalbox_messages_received_total{source=\"odd \\\"name\\\" \\\\ here\"} 34.0",
                "signalbox_messages_routed_total{backend=\"db\"} 600.0",
                "signalbox_messages_dropped_total{reason=\"malformed\"} 3.0",
                "signalbox_buffer_size{source=\"billing\"} 17.0", "signalbox_active_connections 2.0",
                "# TYPE signalbox_backend_latency_seconds histogram",
                "signalbox_backend_latency_seconds_bucket{backend=\"files\",le=\"0.005\"} 1",
                "# TYPE signalbox_pipeline_latency_seconds histogram", "signalbox_backend_breaker_state{backend=\"db\"} 0.0",
                "signalbox_spool_bytes{backend=\"db\"} 4096.0", "signalbox_config_reloads_total 0.0",
                "# TYPE signalbox_config_errors_total counter", "signalbox_metrics_skipped_series 0.0");
    }

    @Test
    void openMetricsIsWrittenWhenAskedFor() throws Exception {
        bindTypicalSources(servlet);
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/metrics"))
                .header("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5").GET());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/openmetrics-text");
        assertThat(r.body()).contains("signalbox_messages_routed_total{backend=\"db\"} 600.0").endsWith("# EOF\n");
    }

    @Test
    void protobufRequestsGetTheTextFormatBecauseItIsNotShipped() throws Exception {
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/metrics")).header("Accept",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited").GET());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    }

    @Test
    void brokenComponentsAndBadKeysStillGiveA200WithTheRest() throws Exception {
        servlet.bindStatsSource(() -> {
            throw new IllegalStateException("stats exploded");
        }, Map.of("component.name", "broken"));
        servlet.bindStatsSource(() -> Map.of("not a key", 1, "signalbox_fine", 1), Map.of("service.id", 42L));
        HttpResponse<String> r = server.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("signalbox_fine 1.0", "signalbox_metrics_skipped_series 1.0",
                "signalbox_metrics_source_failures_total 1.0", "jvm_threads_current");
    }

    @Test
    void anUnboundSourceDisappears() throws Exception {
        StatsSource s = () -> Map.of("signalbox_gone_soon", 1);
        servlet.bindStatsSource(s, Map.of("component.name", "x"));
        assertThat(server.get("/metrics").body()).contains("signalbox_gone_soon 1.0");
        servlet.unbindStatsSource(s);
        assertThat(server.get("/metrics").body()).doesNotContain("signalbox_gone_soon");
    }

    @Test
    void postIsNotAllowed() throws Exception {
        assertThat(server.post("/metrics", "x").statusCode()).isEqualTo(405);
    }
}
