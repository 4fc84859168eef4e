package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.signalbox.api.StatsSource;

/** The servlet in a real Jetty 12 on 127.0.0.1 and a free port. */
class MetricsServletTest {
    private final SidecarServices services = new SidecarServices();
    private ApiTestServer server;

    @BeforeEach
    void start() throws Exception {
        server = ApiTestServer.of(new MetricsServlet(services), MetricsServlet.PATH);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /** Series shaped like the real components', with this bundle's own: {@link ConfigStats}, {@link IngestServlet}. */
    static void bindTypicalSources(SidecarServices services) {
        Map<String, StatsSource> sources = TypicalSeries.byComponent();
        sources.put(ConfigStats.NAME, new ConfigStats());
        sources.put(IngestServlet.NAME, new IngestServlet(HttpServerComponentTest.config(Map.of()), Map.of()));
        services.statsSources = TypicalSeries.asServices(sources);
    }

    @Test
    void getMetricsAnswersPrometheusTextWithJvmAndSignalboxSeries() throws Exception {
        bindTypicalSources(services);
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
                "signalbox_transport_messages_received_total{transport=\"http\"} 0.0",
                "signalbox_http_ingest_requests_total{status=\"413\"} 0.0",
                "signalbox_messages_dropped_total{reason=\"unknown_type\"} 0.0",
                "# TYPE signalbox_config_errors_total counter", "signalbox_metrics_skipped_series 0.0");
    }

    @Test
    void openMetricsIsWrittenWhenAskedFor() throws Exception {
        bindTypicalSources(services);
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
    void brokenComponentsAndBadSeriesStillGiveA200WithTheRest() throws Exception {
        services.statsSources = List.of(TypicalSeries.service("broken", sink -> {
            throw new IllegalStateException("stats exploded");
        }), Map.entry(Map.of("service.id", 42L), sink -> {
            sink.gauge("not a name", 1);
            sink.gauge("signalbox_fine", 1);
        }));
        HttpResponse<String> r = server.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("signalbox_fine 1.0", "signalbox_metrics_skipped_series 1.0",
                "signalbox_metrics_source_failures_total 1.0", "jvm_threads_current",
                "# HELP signalbox_fine Signalbox series from service 42.");
    }

    @Test
    void anUnboundSourceDisappears() throws Exception {
        services.statsSources = List.of(TypicalSeries.service("x", sink -> sink.gauge("signalbox_gone_soon", 1)));
        assertThat(server.get("/metrics").body()).contains("signalbox_gone_soon 1.0");
        services.statsSources = List.of();
        assertThat(server.get("/metrics").body()).doesNotContain("signalbox_gone_soon");
    }

    @Test
    void postIsNotAllowed() throws Exception {
        assertThat(server.post("/metrics", "x").statusCode()).isEqualTo(405);
    }
}
