package io.signalbox.backend.webhook.internal;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;

/**
 * A validated webhook configuration. {@link #of} checks the configuration as a whole through
 * {@link ConfigValues} (unknown keys, types, URL, method, ranges) plus the webhook's own rules
 * (header syntax, what the JDK HTTP client accepts) and throws one {@link ConfigCheck.Rejected}
 * naming every problem; no problem contains a header value or more of the URL than its scheme.
 *
 * @param url              target, {@code http} or {@code https}, without user info
 * @param method           {@code POST} or {@code PUT}
 * @param gzip             whether bodies are sent with {@code Content-Encoding: gzip}
 * @param headers          extra request headers, names and values alternating
 * @param connectTimeout   connect timeout
 * @param requestTimeout   time allowed for one request, from sending to the end of the response
 * @param maxBatchBytes    largest uncompressed body; larger batches are split into several requests
 */
public record WebhookSettings(URI url, String method, boolean gzip, List<String> headers, Duration connectTimeout,
        Duration requestTimeout, int maxBatchBytes) {

    /** Headers the backend sets itself or the JDK client does not allow. */
    private static final Set<String> RESERVED = Set.of("content-type", "content-encoding", "content-length",
            "connection", "expect", "host", "upgrade", "transfer-encoding");
    /** Any URL: header names and values are checked against the JDK client before the URL is known to be valid. */
    private static final URI PROBE = URI.create("http://localhost/");

    public WebhookSettings {
        headers = List.copyOf(headers);
    }

    /** {@code scheme://host[:port]}: what may be logged of the URL (its path and query may be secret). */
    String origin() {
        return url.getScheme() + "://" + url.getRawAuthority();
    }

    /** Header names only (values may carry tokens), for the log. */
    List<String> headerNames() {
        List<String> names = new ArrayList<>(headers.size() / 2);
        for (int i = 0; i < headers.size(); i += 2) {
            names.add(headers.get(i));
        }
        return names;
    }

    /** Effective configuration for the log: origin only (path and query may be secret), header names only. */
    String describe() {
        return method + " " + origin() + "/…, gzip=" + gzip + ", headers=" + headerNames() + ", connect.timeout.ms="
                + connectTimeout.toMillis() + ", request.timeout.ms=" + requestTimeout.toMillis()
                + ", max.batch.bytes=" + maxBatchBytes;
    }

    /**
     * Validates the whole configuration.
     *
     * @param config     the typed configuration (values and defaults)
     * @param properties the raw properties (unknown keys and types are checked on these)
     * @throws ConfigCheck.Rejected naming every problem
     */
    public static WebhookSettings of(WebhookConfig config, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(WebhookConfig.class, config, properties);
        URI url = v.httpUrl("url", config.url(), "https://hooks.example.com/signalbox");
        if (url != null) {
            v.check(acceptedByHttpClient(url), "'url' is refused by the JDK HTTP client");
        }
        String method = v.oneOf("method", config.method(), "POST", "PUT");
        long connect = v.atLeast("connect.timeout.ms", config.connect_timeout_ms(), 1);
        long request = v.atLeast("request.timeout.ms", config.request_timeout_ms(), 1);
        int maxBytes = v.range("max.batch.bytes", config.max_batch_bytes(), 1, Integer.MAX_VALUE - 16);
        List<String> headers = v.parse(() -> parseHeaders(config.headers(), properties.get("headers") instanceof String));
        v.done();
        return new WebhookSettings(url, method, config.gzip(), headers, Duration.ofMillis(connect),
                Duration.ofMillis(request), maxBytes);
    }

    private static boolean acceptedByHttpClient(URI url) {
        try {
            HttpRequest.newBuilder(url);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * "Name: value" entries. A single text (not a list) is one header and must not contain a comma
     * (ambiguous: one value with a comma, or several headers?); a value that arrives as the literal
     * text {@code ["A: b","C: d"]} (fileinstall passes a whole file as plain text when one value
     * is not in its typed syntax) is unpacked.
     */
    static List<String> parseHeaders(String[] values, boolean singleText) {
        List<String> entries = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                if (v == null || v.isBlank()) {
                    continue;
                }
                String t = v.trim();
                if (t.startsWith("[") && t.endsWith("]")) {
                    entries.addAll(unpackList(t));
                } else if (singleText && t.indexOf(',') >= 0 && !t.startsWith("\"")) {
                    throw new IllegalArgumentException("'headers' is a single text with a comma: write a list, "
                            + "headers=[\"Name: value\",\"Other: value\"] (also for one header whose value has a comma)");
                } else {
                    entries.add(ConfigValues.unquote(t));
                }
            }
        }
        List<String> out = new ArrayList<>(entries.size() * 2);
        HttpRequest.Builder probe = HttpRequest.newBuilder(PROBE);
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i);
            int colon = entry.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("'headers' entry " + (i + 1) + " is not \"Name: value\""
                        + (colon == 0 ? " (empty name)" : " (no ':')"));
            }
            String name = entry.substring(0, colon).trim();
            String value = entry.substring(colon + 1).trim();
            if (!isToken(name)) {
                throw new IllegalArgumentException("'headers' entry " + (i + 1) + ": \"" + printable(name)
                        + "\" is not a valid header name");
            }
            if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("'headers' entry " + (i + 1) + ": header " + name
                        + " is set by the backend or the HTTP client and cannot be configured");
            }
            for (int k = 0; k < value.length(); k++) {
                char c = value.charAt(k);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    throw new IllegalArgumentException("'headers' entry " + (i + 1) + " (" + name
                            + "): the value contains a control character");
                }
            }
            try {
                probe.header(name, value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'headers' entry " + (i + 1) + " (" + name
                        + ") is refused by the HTTP client", e);
            }
            out.add(name);
            out.add(value);
        }
        return out;
    }

    /** {@code ["a: b", "c: d"]} → the quoted strings; {@code \"} and {@code \\} escapes allowed. */
    private static List<String> unpackList(String text) {
        List<String> out = new ArrayList<>();
        String inner = text.substring(1, text.length() - 1).trim();
        int i = 0;
        while (i < inner.length()) {
            if (inner.charAt(i) != '"') {
                throw new IllegalArgumentException("'headers' list must contain quoted strings: headers=[\"Name: value\"]");
            }
            StringBuilder sb = new StringBuilder();
            i++;
            boolean closed = false;
            while (i < inner.length()) {
                char c = inner.charAt(i++);
                if (c == '\\' && i < inner.length()) {
                    sb.append(inner.charAt(i++));
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    sb.append(c);
                }
            }
            if (!closed) {
                throw new IllegalArgumentException("'headers' list has an unterminated string");
            }
            out.add(sb.toString());
            while (i < inner.length() && Character.isWhitespace(inner.charAt(i))) {
                i++;
            }
            if (i < inner.length()) {
                if (inner.charAt(i) != ',') {
                    throw new IllegalArgumentException("'headers' list entries must be separated by ','");
                }
                i++;
                while (i < inner.length() && Character.isWhitespace(inner.charAt(i))) {
                    i++;
                }
            }
        }
        return out;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
