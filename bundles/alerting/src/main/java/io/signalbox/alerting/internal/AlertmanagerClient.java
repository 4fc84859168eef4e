package io.signalbox.alerting.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.RateLimitedLog;

/**
 * Posts alerts to Alertmanager's v2 API ({@code POST <url>/api/v2/alerts}), as Prometheus' notifier does:
 * firing alerts with {@code endsAt} = now + 4 × max(resend delay, evaluation interval) (so Alertmanager
 * resolves them itself if Signalbox goes away), resolved ones with {@code endsAt} = the resolve time. Called
 * on its own thread: a slow or absent Alertmanager never delays evaluation. A failed post is logged
 * (rate-limited) and counted; the alerts are sent again at the next resend.
 */
final class AlertmanagerClient {
    private static final Logger LOG = LoggerFactory.getLogger(AlertmanagerClient.class);

    record Outgoing(java.util.Map<String, String> labels, java.util.Map<String, String> annotations, long startsAt,
            long endsAt) {
    }

    private final URI uri;
    private final Duration timeout;
    private final HttpClient http;
    private final RateLimitedLog problems = new RateLimitedLog(LOG);
    final LongAdder sent = new LongAdder();
    final LongAdder failed = new LongAdder();

    AlertmanagerClient(String baseUrl, long timeoutMs) {
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.uri = URI.create(base + "/api/v2/alerts");
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalArgumentException("alertmanager.url must be an http(s) URL: " + baseUrl);
        }
        this.timeout = Duration.ofMillis(timeoutMs);
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    URI uri() {
        return uri;
    }

    static byte[] body(List<Outgoing> alerts) {
        return Json.bytes(g -> {
            g.writeStartArray();
            for (Outgoing a : alerts) {
                g.writeStartObject();
                Json.map(g, "labels", a.labels());
                Json.map(g, "annotations", a.annotations());
                g.writeStringField("startsAt", Json.rfc3339(a.startsAt()));
                g.writeStringField("endsAt", Json.rfc3339(a.endsAt()));
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    /** Posts; true if Alertmanager answered 2xx. */
    boolean post(List<Outgoing> alerts) {
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body(alerts))).build();
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 == 2) {
                sent.add(alerts.size());
                return true;
            }
            failed.add(alerts.size());
            problems.warn("status", "alertmanager {} answered {}: {}", uri, r.statusCode(), r.body());
        } catch (IOException e) {
            failed.add(alerts.size());
            problems.warn("io", "alertmanager {} not reachable: {}", uri, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }
}
