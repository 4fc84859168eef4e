package io.signalbox.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;

/** GET requests to the sidecar with {@link HttpURLConnection} (the JDK's, nothing else). */
final class Http {
    private static final int CONNECT_TIMEOUT_MS = 3_000;
    private static final int READ_TIMEOUT_MS = 30_000;

    private final URI base;

    Http(URI base) {
        this.base = base;
    }

    URI base() {
        return base;
    }

    /** A complete answer: status and body (also for 4xx/5xx, which carry a JSON error). */
    record Response(int status, byte[] body) {
    }

    Response get(String pathAndQuery) throws IOException {
        HttpURLConnection c = open(pathAndQuery, READ_TIMEOUT_MS);
        try {
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            byte[] body = in == null ? new byte[0] : in.readAllBytes();
            return new Response(status, body);
        } finally {
            c.disconnect();
        }
    }

    /**
     * Opens a streaming GET; the caller reads {@link HttpURLConnection#getInputStream()} until it
     * ends. The server writes an empty line every few seconds, so {@code readTimeoutMillis} finds a
     * sidecar that stopped without closing.
     */
    HttpURLConnection stream(String pathAndQuery, int readTimeoutMillis) throws IOException {
        return open(pathAndQuery, readTimeoutMillis);
    }

    private HttpURLConnection open(String pathAndQuery, int readTimeoutMillis) throws IOException {
        URL url = base.resolve(pathAndQuery).toURL();
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setConnectTimeout(CONNECT_TIMEOUT_MS);
        c.setReadTimeout(readTimeoutMillis);
        c.setUseCaches(false);
        c.setRequestProperty("Accept", "application/json, application/x-ndjson, text/plain");
        c.setRequestProperty("User-Agent", "signalbox-cli");
        return c;
    }
}
