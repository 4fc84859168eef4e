package io.signalbox.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Map;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The io.signalbox.http bundle's server, placed through Config Admin PID {@value #PID} (as
 * {@code etc/io.signalbox.http.cfg} places it), and a client for it.
 */
final class Http {
    static final String PID = "io.signalbox.http";

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The port the server is configured on by an earlier test class, else a free one. */
    static int configuredPortOrFree(ConfigurationAdmin configAdmin) throws IOException {
        Dictionary<String, Object> props = configAdmin.getConfiguration(PID, "?").getProperties();
        return props != null && props.get("port") instanceof Number n ? n.intValue() : Sidecar.freePort();
    }

    /** Moves the server to 127.0.0.1:{@code port} with {@code extra} settings; returns its base URI (no wait). */
    static String serve(ConfigurationAdmin configAdmin, int port, Map<String, ?> extra) throws IOException {
        Map<String, Object> props = new HashMap<>(extra);
        props.put("host", "127.0.0.1");
        props.put("port", port);
        update(configAdmin, props);
        return "http://127.0.0.1:" + port;
    }

    /** Replaces the server's configuration with {@code props}. */
    static void update(ConfigurationAdmin configAdmin, Map<String, ?> props) throws IOException {
        Configuration c = configAdmin.getConfiguration(PID, "?");
        Sidecar.update(c, props);
    }

    /** The answer, or {@code null} if nothing answered. */
    HttpResponse<String> get(String uri) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The body of a 200 answer, or "" (refused, timed out, other status). */
    String body(String uri) {
        HttpResponse<String> r = get(uri);
        return r != null && r.statusCode() == 200 ? r.body() : "";
    }

    HttpResponse<String> post(String uri, String body) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The status of an answer; -1 if nothing answered. */
    static int status(HttpResponse<String> r) {
        return r == null ? -1 : r.statusCode();
    }
}
