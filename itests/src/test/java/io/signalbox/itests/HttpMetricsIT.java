package io.signalbox.itests;

import static io.signalbox.itests.Sidecar.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GET /metrics from the real io.signalbox.http bundle served by Felix HTTP (Jetty 12) in the
 * framework, with the pipeline's real bundles publishing their stats; the server's address set
 * through Config Admin PID io.signalbox.http, as etc/io.signalbox.http.cfg sets it.
 */
class HttpMetricsIT extends SidecarTest {
    private static final Logger LOG = LoggerFactory.getLogger(HttpMetricsIT.class);

    private final Http http = new Http();

    /** Moves the HTTP server to {@code port} and waits until /metrics answers there. */
    private String serveOn(int port) throws Exception {
        String uri = Http.serve(configAdmin, port, Map.of()) + "/metrics";
        waitUntil("/metrics answering on port " + port, () -> !http.body(uri).isEmpty());
        return uri;
    }

    @Test
    void metricsShowWhatThePipelineReceivedRoutedAndDroppedAndPassPromtool() throws Exception {
        String metrics = serveOn(Sidecar.freePort());
        fileBackend("httpit");
        sidecar.route("httpit", Map.of("source", "http-it-*", "backends", new String[] {"httpit"}));

        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            lines.add(Sidecar.event("http-it-a", "m", i));
        }
        lines.add("{definitely not json");
        sidecar.send(lines.toArray(String[]::new));

        String received = "signalbox_messages_received_total{source=\"http-it-a\"} 120.0";
        String[] body = {""};
        waitUntil("/metrics showing 120 received from http-it-a and routed to httpit", () -> {
            body[0] = http.body(metrics);
            return body[0].contains(received) && value(body[0], "signalbox_messages_routed_total{backend=\"httpit\"}") >= 120;
        });
        String text = body[0];
        assertThat(value(text, "signalbox_messages_dropped_total{reason=\"malformed\"}")).isGreaterThanOrEqualTo(1);
        assertThat(text).contains(
                "# TYPE signalbox_messages_received_total counter",
                "signalbox_buffer_size{source=\"http-it-a\"} ",
                "signalbox_active_connections ",
                "# TYPE signalbox_backend_latency_seconds histogram",
                "signalbox_backend_latency_seconds_bucket{backend=\"httpit\",le=\"+Inf\"} ",
                "# TYPE signalbox_pipeline_latency_seconds histogram",
                "signalbox_pipeline_latency_seconds_count{backend=\"httpit\"} ",
                "signalbox_backend_breaker_state{backend=\"httpit\"} 0.0",
                "signalbox_spool_bytes{backend=\"httpit\"} ",
                "# TYPE signalbox_config_reloads_total counter",
                "# TYPE signalbox_config_errors_total counter",
                "jvm_memory_used_bytes{area=\"heap\"}",
                "jvm_threads_current",
                "signalbox_metrics_skipped_series 0.0");
        assertThat(value(text, "signalbox_config_reloads_total")).as("the configurations this test created")
                .isGreaterThanOrEqualTo(3);
        promtoolCheck(text);
    }

    @Test
    void theServerMovesWhenItsConfigurationChangesAndKeepsItsAddressOnABadOne() throws Exception {
        String first = serveOn(Sidecar.freePort());
        int secondPort = Sidecar.freePort();
        String second = serveOn(secondPort);
        waitUntil("nothing answers on the old address " + first, () -> http.body(first).isEmpty());

        double errorsBefore = value(http.body(second), "signalbox_config_errors_total");
        Http.update(configAdmin, Map.of("host", "127.0.0.1", "port", secondPort, "prot", 1));
        waitUntil("the rejected configuration counted in signalbox_config_errors_total",
                () -> value(http.body(second), "signalbox_config_errors_total") > errorsBefore);
        assertThat(http.body(second)).as("still served on port %d", secondPort).contains("signalbox_config_reloads_total");
    }

    /** The value of one series (exact name and labels) in a text exposition, or -1. */
    static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** {@code promtool check metrics}, where it is installed (.ci/run installs Debian's prometheus). */
    private static void promtoolCheck(String text) throws IOException, InterruptedException {
        Path promtool = null;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, "promtool"))) {
                promtool = Path.of(d, "promtool");
                break;
            }
        }
        if (promtool == null) {
            LOG.warn("promtool is not installed (apt-get install prometheus): in-framework /metrics not linted");
            return;
        }
        Path in = Files.createTempFile("metrics", ".txt");
        Path out = Files.createTempFile("promtool", ".txt");
        try {
            Files.writeString(in, text);
            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(in.toFile())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
            assertThat(Files.readString(out).trim()).as("promtool check metrics").isEmpty();
            assertThat(p.exitValue()).as("promtool exit code").isZero();
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
        }
    }
}
