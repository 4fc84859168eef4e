package io.signalbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** {@code status}: health, rates from two /metrics samples, backends. */
class StatusViewTest {
    static final String HEALTH = """
            {"status":"degraded","uptime_seconds":7385,"connections":3,"sources":2,
             "backends":[
               {"name":"files","kind":"file","state":"up","queued_messages":0,"spool_messages":0,"spool_bytes":0,
                "routed_messages":12345,"written_messages":12345,"write_failures":0,"dead_letter_messages":0,"spool_dropped_messages":0},
               {"name":"db","kind":null,"state":"waiting_for_bundle","queued_messages":0,"spool_messages":2000,
                "spool_bytes":1536000,"routed_messages":2000,"written_messages":0,"write_failures":0,"dead_letter_messages":0,
                "spool_dropped_messages":0}],
             "last_config_error":{"at":"2026-11-23T14:00:00Z","pid":"io.signalbox.route.x","message":"unknown key 'sorce'"},
             "config_errors":1}
            """;

    static final String METRICS_1 = """
            # HELP signalbox_messages_received_total Messages received.
            # TYPE signalbox_messages_received_total counter
            signalbox_messages_received_total{source="web"} 1000.0
            signalbox_messages_received_total{source="db \\"x\\" {y}"} 500.0
            signalbox_messages_routed_total{backend="files"} 1200.0
            """;
    static final String METRICS_2 = """
            signalbox_messages_received_total{source="web"} 1800.0
            signalbox_messages_received_total{source="db \\"x\\" {y}"} 700.0 1795442400000
            signalbox_messages_routed_total{backend="files"} 2190.0
            """;

    @Test
    void healthRatesAndBackendsAreSummarised() throws Exception {
        StatusView.Rates rates = new StatusView.Rates(new MetricsSample(METRICS_1), new MetricsSample(METRICS_2), 2.0);

        List<String> lines = StatusView.render(Json.map(Json.parse(HEALTH)), "http://127.0.0.1:17001", rates, null);

        assertThat(lines.get(0)).isEqualTo("Signalbox DEGRADED, up 2h03m, 3 connections, 2 sources (http://127.0.0.1:17001)");
        assertThat(lines.get(1)).isEqualTo("rates over 2.0 s: received 500 msg/s, routed 495 msg/s; received since start 2,500");
        assertThat(lines.get(2)).isEqualTo("backends:");
        assertThat(lines.get(3)).startsWith("  NAME").contains("STATE", "ROUTED/S", "WRITTEN", "SPOOLED");
        assertThat(lines.get(4)).matches("  files +file +up +495 +12,345 +12,345 +0 +0 \\(0 B\\) +0 +0 +0");
        // routed to a backend that is not there: everything in the spool, nothing written
        assertThat(lines.get(5)).matches("  db +null +waiting_for_bundle +- +2,000 +0 +0 +2,000 \\(1.5 MiB\\) +0 +0 +0");
        assertThat(lines.get(6)).isEqualTo("configuration: 1 rejected configuration; the last at 2026-11-23T14:00:00Z "
                + "(io.signalbox.route.x): unknown key 'sorce'");
    }

    @Test
    void withoutMetricsTheTotalsReceivedPerSourceAreShown() throws Exception {
        Map<String, Object> sources = Json.map(Json.parse(
                "{\"sources\":[{\"name\":\"web\",\"received_total\":1800},{\"name\":\"db\",\"received_total\":700}]}"));

        List<String> lines = StatusView.render(Json.map(Json.parse(HEALTH)), "http://x", null, sources);

        assertThat(lines.get(1)).isEqualTo("received since start: 2,500 (web 1,800, db 700); no rates (/metrics not available)");
    }

    @Test
    void metricSamplesAreSummedAndSplitByLabelWithQuotedValues() {
        MetricsSample s = new MetricsSample(METRICS_2);

        assertThat(s.sum("signalbox_messages_received_total")).isEqualTo(2500.0);
        assertThat(s.byLabel("signalbox_messages_received_total", "source"))
                .containsEntry("web", 1800.0).containsEntry("db \"x\" {y}", 700.0);
        assertThat(s.sum("signalbox_nothing_total")).isNaN();
    }
}
