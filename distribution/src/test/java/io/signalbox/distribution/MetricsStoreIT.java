package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 end to end on the assembled distribution: metric messages in over TCP and over seed
 * 004's {@code POST /metrics}; {@code GET /query} returns them; Prometheus' own {@code promtool
 * query instant|range} against the Prometheus API gives the hand-computed numbers; after
 * {@code kill -9} and a restart the data is still there and retention has deleted what is older than
 * {@code retention.days}.
 */
class MetricsStoreIT extends InstallationTest {
    private static final Duration VISIBLE = Duration.ofSeconds(60);
    private static final Pattern INSTANT = Pattern.compile("(?m)^(\\{.*\\}) => (\\S+) @\\[");

    /** Two minutes' worth of minutes back from now, aligned: every timestamp below is exact. */
    long base;

    @BeforeEach
    void quickPipeline() throws IOException {
        signalbox.configure("etc/io.signalbox.correlation.cfg", "flush.interval.ms=200\n");
        // retention is checked at start and then hourly: the 20-day-old point survives until the restart
        signalbox.configure("etc/io.signalbox.metrics.store.cfg",
                "path=data/metrics\nretention.days=15\nflush.interval.ms=200\nretention.check.interval.ms=3600000\n");
        base = (System.currentTimeMillis() / 60_000) * 60_000 - 30 * 60_000;
    }

    @Test
    void seedCallsAndPromtoolGiveTheRightNumbersAndSurviveKillMinus9(@TempDir Path tmp) throws Exception {
        // its own java.io.tmpdir: DuckDB's native library is loaded from lib/native/, never unpacked
        // there (it used to be: 72 MB per start, left behind by every kill -9)
        signalbox.start("with its own temporary folder", Map.of("SIGNALBOX_JAVA_OPTS", "-Xmx384m -Djava.io.tmpdir=" + tmp));
        String http = "http://127.0.0.1:" + signalbox.httpPort();
        awaitHttp();

        // TCP: counter requests_total every 10 s, 10 per step, reset to 0 at k = 30
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = s.getOutputStream();
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k <= 60; k++) {
                long v = k < 30 ? 10L * k : 10L * (k - 30);
                sb.append("{\"v\":1,\"src\":\"tcp-app\",\"ts\":").append(base + k * 10_000L)
                        .append(",\"type\":\"metric\",\"data\":{\"name\":\"requests_total\",\"value\":").append(v)
                        .append("}}\n");
            }
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        // POST /metrics: cpu_usage of web (50 + k, tag host) and db (20) every minute; one point 20 days old
        StringBuilder arr = new StringBuilder("[");
        for (int k = 0; k < 10; k++) {
            arr.append(k == 0 ? "" : ",").append("{\"name\":\"cpu_usage\",\"value\":").append(50 + k)
                    .append(",\"timestamp\":").append(base + k * 60_000L)
                    .append(",\"source\":\"web\",\"tags\":{\"host\":\"h1\"}}")
                    .append(",{\"name\":\"cpu_usage\",\"value\":20,\"timestamp\":").append(base + k * 60_000L)
                    .append(",\"source\":\"db\"}");
        }
        arr.append(",{\"name\":\"old_metric\",\"value\":1,\"timestamp\":")
                .append(System.currentTimeMillis() - 20L * 86_400_000L).append("}]");
        assertThat(post(http + "/metrics", arr.toString())).startsWith("202 ").contains("\"accepted\":21");
        // 004's own example: no timestamp (now), no source (post.default.source = http)
        assertThat(post(http + "/metrics", "{\"name\":\"cpu_usage\",\"value\":85}")).startsWith("202 ");
        // bad input: 400 with the reason, nothing else lost
        String bad = post(http + "/metrics", "[{\"name\":\"cpu_usage\"},{\"value\":3},{\"name\":\"x\",\"value\":\"high\"}]");
        assertThat(bad).startsWith("400 ").contains("\\\"value\\\" is required").contains("\\\"name\\\" is required")
                .contains("must be a number");
        assertThat(postDeclaring(http + "/metrics", 1_100_000)).startsWith("HTTP/1.1 413 ");
        // GET /metrics is still the sidecar's own exposition
        assertThat(Installation.get(http + "/metrics").ok()).contains("signalbox_metrics_store_points_total");

        String query = http + "/query?name=cpu_usage&start=" + base + "&end=" + (base + 540_000);
        assertThat(Installation.poll(VISIBLE, () -> count(Installation.get(query).ok(), "\"timestamp\"") == 20))
                .as("20 cpu_usage points visible in GET /query").isTrue();
        String raw = Installation.get(query).ok();
        assertThat(raw).startsWith("[{\"name\":\"cpu_usage\",\"timestamp\":" + base + ",");
        assertThat(raw).contains("{\"name\":\"cpu_usage\",\"timestamp\":" + (base + 540_000)
                + ",\"value\":59.0,\"source\":\"web\",\"tags\":{\"host\":\"h1\"}}");
        assertThat(timestamps(raw)).isSorted();
        assertThat(Installation.poll(VISIBLE, () -> count(Installation.get(http + "/query?name=requests_total&start=" + base
                + "&end=" + (base + 600_000)).ok(), "\"timestamp\"") == 61)).isTrue();
        assertThat(Installation.poll(VISIBLE, () -> Installation.get(http + "/query?name=old_metric&start=0").ok()
                .contains("\"value\":1.0"))).as("the 20-day-old point is stored until retention runs").isTrue();

        checkPromtool(http);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(f -> f.contains("duckdb"));
        }

        long pid = signalbox.pid().orElseThrow();
        Installation.signal(pid, "KILL");
        assertThat(Installation.poll(Duration.ofSeconds(30), () -> !Installation.isRunning(pid))).isTrue();
        signalbox.start("after kill -9");
        awaitHttp();

        assertThat(Installation.poll(VISIBLE, () -> count(Installation.get(query).ok(), "\"timestamp\"") == 20))
                .as("the points are still there after kill -9").isTrue();
        assertThat(Installation.get(query).ok()).isEqualTo(raw);
        assertThat(Installation.get(http + "/query?name=old_metric&start=0").ok())
                .as("retention (15 days) ran at the start").isEqualTo("[]");
        checkPromtool(http);
        assertThat(signalbox.logFile()).content().doesNotContain("ERROR");
    }

    /** examples/metrics-demo.sh (seed 004's demo.sh) against the assembled distribution. */
    @Test
    void metricsDemoScriptRuns() throws Exception {
        signalbox.start();
        awaitHttp();
        java.nio.file.Path script = java.nio.file.Path.of(System.getProperty("user.dir")).resolve("../examples/metrics-demo.sh")
                .normalize();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        pb.environment().put("SIGNALBOX_HTTP", "127.0.0.1:" + signalbox.httpPort());
        pb.environment().put("DEMO_SOURCE", "demo-it");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("\"value\":88.0,\"source\":\"demo-it\"")
                .contains("ALERT cpu_usage avg(5m) > 80 (current: 88) would fire for demo-it")
                .contains("ALERT error_rate > 5 (current: 7.5) would fire for demo-it endpoint=/checkout");
    }

    /**
     * Seed 004's "Manual Testing" blocks (ingest, query, health), copied verbatim; the only
     * substitution is its server address {@code localhost:8080} by the sidecar's HTTP address. The
     * query block runs until the ingested points are visible (the pipeline batches for up to the
     * flush interval first).
     */
    @Test
    void seed004ManualTestingBlocksRunVerbatim() throws Exception {
        signalbox.start();
        awaitHttp();
        String ingest = String.join("\n",
                "# Ingest CPU usage",
                "curl -X POST http://localhost:8080/metrics \\",
                "     -H \"Content-Type: application/json\" \\",
                "     -d '{\"name\":\"cpu_usage\",\"value\":85}'",
                "",
                "# Ingest memory usage",
                "curl -X POST http://localhost:8080/metrics \\",
                "     -H \"Content-Type: application/json\" \\",
                "     -d '{\"name\":\"memory_usage\",\"value\":75}'",
                "",
                "# Ingest custom metric",
                "curl -X POST http://localhost:8080/metrics \\",
                "     -H \"Content-Type: application/json\" \\",
                "     -d '{\"name\":\"request_latency\",\"value\":125.5}'");
        String query = String.join("\n",
                "# Get current timestamp (milliseconds)",
                "NOW=$(date +%s)000",
                "START=$((NOW - 300000))  # 5 minutes ago",
                "",
                "# Query CPU usage for last 5 minutes",
                "curl \"http://localhost:8080/query?name=cpu_usage&start=$START&end=$NOW\"",
                "",
                "# Query memory usage",
                "curl \"http://localhost:8080/query?name=memory_usage&start=$START&end=$NOW\"");
        String health = "curl http://localhost:8080/health";
        // checked against the document itself where it is at hand (../shared/seeds next to the checkout)
        Path seeds = Path.of(System.getProperty("user.dir")).resolve("../../shared/seeds").normalize();
        if (Files.isDirectory(seeds)) {
            String seed = Files.readString(seeds.resolve(seedFile(seeds)), StandardCharsets.UTF_8);
            assertThat(seed).as("the blocks are the document's own").contains(ingest).contains(query).contains(health);
        }
        String address = "127.0.0.1:" + signalbox.httpPort();
        String ingested = bash(ingest.replace("localhost:8080", address));
        assertThat(ingested.split("\"accepted\":1,\"rejected\":0", -1)).as(ingested).hasSize(4); // three answers, each 1 accepted
        String[] answer = new String[1];
        assertThat(Installation.poll(VISIBLE, () -> {
            answer[0] = bash(query.replace("localhost:8080", address));
            return answer[0].contains("\"value\":85.0") && answer[0].contains("\"value\":75.0");
        })).as("the query block's answer: %s", answer[0]).isTrue();
        assertThat(bash(health.replace("localhost:8080", address))).contains("\"status\"");
    }

    /** The seed file of design document 004 (its name carries a hash). */
    private static String seedFile(Path seeds) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(seeds)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("004_")).findFirst().orElseThrow();
        }
    }

    private static String bash(String script) {
        try {
            Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** start() waits for the TCP port; Jetty opens the HTTP port a moment later. */
    private void awaitHttp() {
        assertThat(Installation.poll(VISIBLE, () -> Installation.get("http://127.0.0.1:" + signalbox.httpPort() + "/health")
                .status() == 200)).as("HTTP answers /health").isTrue();
    }

    private void checkPromtool(String http) throws Exception {
        // sum by (source) at base + 9 min: web 59, db 20
        Map<String, Double> sum = instant(http, "sum by (source) (cpu_usage)", base + 540_000);
        assertThat(sum).containsEntry("{source=\"web\"}", 59.0).containsEntry("{source=\"db\"}", 20.0).hasSize(2);
        // avg over the ten web points 50..59
        assertThat(instant(http, "avg_over_time(cpu_usage{source=\"web\"}[10m])", base + 540_000))
                .containsEntry("{host=\"h1\", source=\"web\"}", 54.5);
        // (270 s, 330 s]: 280, 290, 0, 10, 20, 30 -> 30 - 280 + 290 = 40 over 50 s, extrapolated to 60 s = 48
        Map<String, Double> inc = instant(http, "increase(requests_total[1m])", base + 330_000);
        assertThat(inc.get("{source=\"tcp-app\"}")).isCloseTo(48.0, within(1e-9));
        Map<String, Double> rate = instant(http, "rate(requests_total{source=~\"tcp-.*\"}[1m])", base + 330_000);
        assertThat(rate.get("{source=\"tcp-app\"}")).isCloseTo(0.8, within(1e-9));
        assertThat(instant(http, "max_over_time(cpu_usage[10m]) > 50", base + 540_000))
                .containsOnlyKeys("{host=\"h1\", source=\"web\"}");

        String range = promtool("query", "range", "--start=" + seconds(base), "--end=" + seconds(base + 540_000),
                "--step=60s", http, "sum by (source) (cpu_usage) * 2");
        List<Double> web = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^(\\S+) @\\[").matcher(range.substring(range.indexOf("{source=\"web\"}")));
        while (m.find() && web.size() < 10) {
            web.add(Double.parseDouble(m.group(1)));
        }
        assertThat(web).containsExactly(100.0, 102.0, 104.0, 106.0, 108.0, 110.0, 112.0, 114.0, 116.0, 118.0);

        String error = promtool("query", "instant", http, "abs(cpu_usage)");
        assertThat(error).contains("bad_data").contains("function 'abs' is not supported");
    }

    private Map<String, Double> instant(String http, String expr, long atMs) throws Exception {
        String out = promtool("query", "instant", "--time=" + seconds(atMs), http, expr);
        Map<String, Double> r = new LinkedHashMap<>();
        Matcher m = INSTANT.matcher(out);
        while (m.find()) {
            r.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        assertThat(r).as("promtool query instant %s:%n%s", expr, out).isNotEmpty();
        return r;
    }

    private static String seconds(long ms) {
        return String.valueOf(ms / 1000);
    }

    static String promtool(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add("promtool");
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** POSTs JSON; "<status> <body>". */
    static String post(String uri, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(uri).toURL().openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        try {
            try (OutputStream o = c.getOutputStream()) {
                o.write(body.getBytes(StandardCharsets.UTF_8)); // bodies here are small: the 413 case is postDeclaring
            }
            int status = c.getResponseCode();
            var in = status < 400 ? c.getInputStream() : c.getErrorStream();
            return status + " " + (in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            c.disconnect();
        }
    }

    /**
     * A POST that declares a body of {@code contentLength} bytes and sends none of it; the status line.
     * The server answers 413 from the declared length without reading a byte and then closes the
     * connection: a client still sending the body there gets a reset, and may lose the answer with it
     * (HttpURLConnection failed with "Error writing to server" in one CI run).
     */
    static String postDeclaring(String uri, long contentLength) throws IOException {
        URI u = URI.create(uri);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(("POST " + u.getRawPath() + " HTTP/1.1\r\nHost: " + u.getHost() + ":" + u.getPort()
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + contentLength
                    + "\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            String status = in.readLine();
            while (status != null && status.startsWith("HTTP/1.1 100")) { // an interim answer, then a blank line
                in.readLine();
                status = in.readLine();
            }
            return String.valueOf(status);
        }
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static List<Long> timestamps(String raw) {
        List<Long> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"timestamp\":(\\d+)").matcher(raw);
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }
}
