package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

/**
 * Issue 16 end to end on the assembled distribution with the SHIPPED pipeline defaults (correlation batches
 * metrics for up to 5 s): a rule file dropped into etc/ while running; an alert without {@code for} fires
 * within 2 s of the crossing sample (its event's time against the sample's); one with {@code for} goes
 * pending, then firing; the events arrive in the file backend and at a webhook that was down while they
 * fired (spooled, then delivered); a real Alertmanager (Debian's prometheus-alertmanager, started here)
 * shows the alert and then no longer; an invalid rule file is rejected with its line and the old rules keep
 * working — they resolve the alerts when the value falls.
 */
class AlertingIT extends InstallationTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Path ALERTMANAGER = Path.of("/usr/bin/prometheus-alertmanager");
    private static final Pattern EVENT_TS = Pattern.compile("\"ts\":(\\d+)");

    private Process alertmanager;
    private HttpServer receiver;

    @AfterEach
    void stopHelpers() throws InterruptedException {
        if (receiver != null) {
            receiver.stop(0);
        }
        if (alertmanager != null) {
            alertmanager.destroy();
            alertmanager.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void ruleFileFiresPendsResolvesAndReachesFilesWebhookAndAlertmanager() throws Exception {
        assertThat(ALERTMANAGER).as("Debian's prometheus-alertmanager (.ci/run installs it)").isExecutable();
        int amPort = Installation.freePort();
        startAlertmanager(amPort);
        int hookPort = Installation.freePort(); // nothing listens there yet: the webhook is down

        Path jar = signalbox.home().resolve("optional/io.signalbox.backend.webhook.jar");
        Files.copy(jar, signalbox.home().resolve("deploy").resolve(jar.getFileName()));
        signalbox.configure("etc/io.signalbox.backend.webhook-hook.cfg", "url=http://127.0.0.1:" + hookPort + "/alerts\n");
        signalbox.configure("etc/io.signalbox.route-alerts.cfg", "source=signalbox-alerts\nbackends=files,hook\n");
        signalbox.configure("etc/io.signalbox.routing.cfg", "breaker.open.ms=1000\nretry.max.ms=1000\n");
        signalbox.configure("etc/io.signalbox.alerting.cfg",
                "alertmanager.url=http://127.0.0.1:" + amPort + "\nalertmanager.resend.delay.ms=5000\n");
        signalbox.start();
        String http = "http://127.0.0.1:" + signalbox.httpPort();
        assertThat(Installation.poll(Installation.STARTUP_TIMEOUT, () -> Installation.get(http + "/api/v1/rules").status() == 200))
                .as("alerting answers /api/v1/rules; log:\n%s", signalbox.log()).isTrue();

        // dropped in while running; interval 1h: only an arriving sample (or a for deadline) evaluates it in this test
        signalbox.configure("etc/it.rules.yml", """
                groups:
                  - name: it
                    interval: 1h
                    rules:
                      - alert: HighCpu
                        expr: cpu_usage > 80
                        labels:
                          severity: critical
                        annotations:
                          summary: "cpu {{ $value }} on {{ $labels.source }}"
                      - alert: HighCpuFor
                        expr: cpu_usage > 80
                        for: 3s
                """);
        assertThat(Installation.poll(WAIT, () -> Installation.get(http + "/api/v1/rules").ok().contains("\"HighCpuFor\"")))
                .as("the rule file is applied live; log:\n%s", Installation.excerpt(signalbox.log(), "alert")).isTrue();

        send("cpu_usage", 50, System.currentTimeMillis());
        long crossing = System.currentTimeMillis();
        send("cpu_usage", 95, crossing);

        String firing = awaitEvent("\"alertname\":\"HighCpu\",\"state\":\"firing\"");
        assertThat(ts(firing) - crossing).as("HighCpu fires within 2 s of the crossing sample: %s", firing)
                .isBetween(0L, 2000L);
        assertThat(firing).contains("\"level\":\"critical\"").contains("\"summary\":\"cpu 95 on it-app\"")
                .contains("\"value\":95.0");
        String pending = awaitEvent("\"alertname\":\"HighCpuFor\",\"state\":\"pending\"");
        String forFiring = awaitEvent("\"alertname\":\"HighCpuFor\",\"state\":\"firing\"");
        assertThat(ts(forFiring) - ts(pending)).as("pending for 3 s, then firing").isGreaterThanOrEqualTo(3000L);
        assertThat(Installation.get(http + "/metrics").ok())
                .contains("ALERTS{alertname=\"HighCpu\",alertstate=\"firing\",severity=\"critical\",source=\"it-app\"} 1");
        assertThat(Installation.get(http + "/api/v1/alerts").ok()).contains("\"alertname\":\"HighCpu\"").contains("\"state\":\"firing\"");
        assertThat(signalbox.command("alerts").output()).contains("HighCpu").contains("firing");

        assertThat(Installation.poll(WAIT, () -> amAlerts(amPort).contains("\"alertname\":\"HighCpu\"")))
                .as("Alertmanager shows the alert: %s", amAlerts(amPort)).isTrue();

        // the webhook was down while the alerts fired: they wait (retry, spool) and arrive once it is up
        List<String> hooked = new CopyOnWriteArrayList<>();
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), hookPort), 0);
        receiver.createContext("/alerts", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
                body = new GZIPInputStream(new java.io.ByteArrayInputStream(body)).readAllBytes();
            }
            hooked.add(new String(body, StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        receiver.start();
        assertThat(Installation.poll(Duration.ofSeconds(60), () -> String.join("\n", hooked).contains("\"alertname\":\"HighCpu\",\"state\":\"firing\"")
                && String.join("\n", hooked).contains("\"alertname\":\"HighCpuFor\",\"state\":\"firing\"")))
                .as("the webhook receives the alerts fired while it was down; got %s; log:\n%s", hooked,
                        Installation.excerpt(signalbox.log(), "hook"))
                .isTrue();

        // an invalid file: rejected whole with its line, the old rules stay in force
        signalbox.configure("etc/it.rules.yml", """
                groups:
                  - name: it
                    rules:
                      - alert: HighCpu
                        expr: cpu_usage >
                """);
        assertThat(Installation.poll(WAIT, () -> signalbox.log().contains("rule file") && signalbox.log().contains("rejected (line 5:")))
                .as("rejected with the line; log:\n%s", Installation.excerpt(signalbox.log(), "alert")).isTrue();
        String rules = Installation.get(http + "/api/v1/rules").ok();
        assertThat(rules).contains("\"HighCpuFor\"").contains("\"invalidFiles\":{\"it.rules.yml\":\"line 5:");

        // the old rules keep working: the value falls, both alerts resolve
        send("cpu_usage", 20, System.currentTimeMillis());
        awaitEvent("\"alertname\":\"HighCpu\",\"state\":\"resolved\"");
        awaitEvent("\"alertname\":\"HighCpuFor\",\"state\":\"resolved\"");
        assertThat(Installation.poll(WAIT, () -> !amAlerts(amPort).contains("\"alertname\":\"HighCpu\"")))
                .as("Alertmanager resolves it: %s", amAlerts(amPort)).isTrue();
        assertThat(Installation.poll(WAIT, () -> String.join("\n", hooked).contains("\"alertname\":\"HighCpu\",\"state\":\"resolved\"")))
                .as("the webhook gets the resolution too").isTrue();
        assertThat(Installation.get(http + "/metrics").ok()).doesNotContain("ALERTS{");
        long firingEvents = Installation.linesUnder(signalbox.filesRoot().resolve("signalbox-alerts")).stream()
                .filter(l -> l.contains("\"alertname\":\"HighCpu\",\"state\":\"firing\"")).count();
        assertThat(firingEvents).as("one notification per state change").isEqualTo(1);
    }

    private void send(String name, double value, long ts) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("{\"v\":1,\"src\":\"it-app\",\"ts\":" + ts + ",\"type\":\"metric\",\"data\":{\"name\":\"" + name
                    + "\",\"value\":" + value + "}}\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** The first alert event line in the file backend containing {@code text}. */
    private String awaitEvent(String text) throws IOException {
        Path dir = signalbox.filesRoot().resolve("signalbox-alerts");
        String[] found = {null};
        boolean ok = Installation.poll(WAIT, () -> {
            try {
                if (!Files.isDirectory(dir)) {
                    return false;
                }
                for (String l : Installation.linesUnder(dir)) {
                    if (l.contains(text)) {
                        found[0] = l;
                        return true;
                    }
                }
                return false;
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(ok).as("an alert event with %s in data/files/signalbox-alerts; log:\n%s", text,
                Installation.excerpt(signalbox.log(), "alert")).isTrue();
        return found[0];
    }

    private static long ts(String line) {
        Matcher m = EVENT_TS.matcher(line);
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String amAlerts(int port) {
        return Installation.get("http://127.0.0.1:" + port + "/api/v2/alerts").ok();
    }

    private void startAlertmanager(int port) throws IOException {
        Path dir = tempDir.resolve("alertmanager");
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("alertmanager.yml"), """
                route:
                  receiver: nobody
                  group_by: [alertname]
                receivers:
                  - name: nobody
                """);
        alertmanager = new ProcessBuilder(ALERTMANAGER.toString(), "--config.file=" + dir.resolve("alertmanager.yml"),
                "--storage.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--cluster.listen-address=").redirectErrorStream(true).redirectOutput(dir.resolve("alertmanager.log").toFile())
                .start();
        assertThat(Installation.poll(WAIT, () -> Installation.get("http://127.0.0.1:" + port + "/-/ready").status() == 200))
                .as("alertmanager ready; its log:\n%s", readQuietly(dir.resolve("alertmanager.log"))).isTrue();
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
