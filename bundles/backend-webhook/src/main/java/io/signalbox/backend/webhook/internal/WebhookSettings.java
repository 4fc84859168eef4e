package io.signalbox.backend.webhook.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.signalbox.api.ConfigKeys;

/**
 * A validated webhook configuration. {@link #of} checks the configuration as a whole (unknown
 * keys, types, URL, method, header syntax, ranges) before anything takes effect and throws
 * {@link IllegalArgumentException} with a one-line reason that never contains a header value.
 *
 * @param url              target, {@code http} or {@code https}, without user info
 * @param method           {@code POST} or {@code PUT}
 * @param gzip             whether bodies are sent with {@code Content-Encoding: gzip}
 * @param headers          extra request headers, names and values alternating
 * @param connectTimeout   connect timeout
 * @param requestTimeout   time allowed for one request, from sending to the end of the response
 * @param maxBatchBytes    largest uncompressed body; larger batches are split into several requests
 */
record WebhookSettings(URI url, String method, boolean gzip, List<String> headers, Duration connectTimeout,
        Duration requestTimeout, int maxBatchBytes) {

    /** Headers the backend sets itself or the JDK client does not allow. */
    private static final Set<String> RESERVED = Set.of("content-type", "content-encoding", "content-length",
            "connection", "expect", "host", "upgrade", "transfer-encoding");

    private static final Set<String> KNOWN = ConfigKeys.keysOf(WebhookBackendComponent.Config.class);

    WebhookSettings {
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

    /**
     * Validates the whole configuration.
     *
     * @param config     the typed configuration (values and defaults)
     * @param properties the raw properties (unknown keys and types are checked on these)
     * @throws IllegalArgumentException with the reason if anything is wrong
     */
    static WebhookSettings of(WebhookBackendComponent.Config config, Map<String, ?> properties) {
        String unknown = ConfigKeys.unknownKeysReason(KNOWN, properties);
        if (unknown != null) {
            throw new IllegalArgumentException(unknown);
        }
        checkBoolean(properties, "gzip");
        checkInteger(properties, "connect.timeout.ms", Long.MAX_VALUE);
        checkInteger(properties, "request.timeout.ms", Long.MAX_VALUE);
        checkInteger(properties, "max.batch.bytes", Integer.MAX_VALUE - 16);

        // no default: SCR gives null, the Converter throws; so look at the raw property first
        URI url = parseUrl(properties.get("url") == null ? null : config.url());
        String method = unquote(config.method()).toUpperCase(Locale.ROOT);
        if (!method.equals("POST") && !method.equals("PUT")) {
            throw new IllegalArgumentException("'method' must be POST or PUT, not \"" + config.method() + "\"");
        }
        long connect = positive("connect.timeout.ms", config.connect_timeout_ms());
        long request = positive("request.timeout.ms", config.request_timeout_ms());
        int maxBytes = (int) positive("max.batch.bytes", config.max_batch_bytes());
        List<String> headers = parseHeaders(config.headers(), properties.get("headers") instanceof String, url);
        return new WebhookSettings(url, method, config.gzip(), headers, Duration.ofMillis(connect),
                Duration.ofMillis(request), maxBytes);
    }

    private static URI parseUrl(String value) {
        String text = value == null ? "" : unquote(value);
        if (text.isEmpty()) {
            throw new IllegalArgumentException("'url' is required, e.g. url=https://hooks.example.com/signalbox");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            // the reason names the position, not the (possibly secret) text
            throw new IllegalArgumentException("'url' is not a valid URL: " + e.getReason() + " at index " + e.getIndex(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("'url' must start with http:// or https://"
                    + (uri.getScheme() == null ? "" : " (scheme is \"" + uri.getScheme() + "\")"));
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("'url' has no host");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("'url' must not carry user info (user:password@); "
                    + "send credentials as a header, e.g. headers=[\"Authorization: Bearer ${env:WEBHOOK_TOKEN}\"]");
        }
        try {
            HttpRequest.newBuilder(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'url' is not usable: " + e.getMessage(), e);
        }
        return uri;
    }

    /**
     * "Name: value" entries. A single text (not a list) is one header and must not contain a comma
     * (ambiguous: one value with a comma, or several headers?); a value that arrives as the literal
     * text {@code ["A: b","C: d"]} (fileinstall passes a whole file as plain text when one value
     * is not in its typed syntax) is unpacked.
     */
    static List<String> parseHeaders(String[] values, boolean singleText, URI url) {
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
                    entries.add(unquote(t));
                }
            }
        }
        List<String> out = new ArrayList<>(entries.size() * 2);
        HttpRequest.Builder probe = HttpRequest.newBuilder(url);
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

    private static long positive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException("'" + key + "' must be greater than 0, not " + value);
        }
        return value;
    }

    private static void checkBoolean(Map<String, ?> properties, String key) {
        Object v = properties.get(key);
        if (v == null || v instanceof Boolean) {
            return;
        }
        String s = unquote(v.toString());
        if (!s.equalsIgnoreCase("true") && !s.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("'" + key + "' must be true or false, not \"" + v + "\"");
        }
    }

    private static void checkInteger(Map<String, ?> properties, String key, long max) {
        Object v = properties.get(key);
        if (v == null) {
            return;
        }
        long n;
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            n = ((Number) v).longValue();
        } else {
            try {
                n = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + key + "' must be a whole number, not \"" + v + "\"", e);
            }
        }
        if (n > max) {
            throw new IllegalArgumentException("'" + key + "' must be at most " + max + ", not " + n);
        }
    }

    /** Trims, and removes one pair of surrounding double quotes (plain-text {@code "POST"}). */
    static String unquote(String value) {
        String t = value.trim();
        if (t.length() >= 2 && t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"') {
            t = t.substring(1, t.length() - 1).trim();
        }
        return t;
    }
}
