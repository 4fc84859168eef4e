package io.signalbox.backend.cloudwatch.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.signalbox.api.ConfigCheck;

/**
 * A validated CloudWatch configuration: {@link #of} checks it as a whole (unknown keys, types,
 * templates, limits, endpoint, credentials pairs) and throws {@link IllegalArgumentException}
 * with a one-line reason that never contains a secret.
 */
record CloudWatchSettings(String region, URI endpoint, String accessKeyId, String secretAccessKey,
        String sessionToken, NameTemplate groupTemplate, NameTemplate streamTemplate, boolean createGroup,
        boolean createStream, int parallelism, int maxEventsPerCall, int maxBytesPerCall, int maxEventBytes,
        Duration connectTimeout, Duration requestTimeout, int maxAttempts) {

    /** Service limits of PutLogEvents. */
    static final int SERVICE_MAX_EVENTS = 10_000;
    static final int SERVICE_MAX_BYTES = 1_048_576;
    /** Bytes the service adds to each event's UTF-8 message bytes when it counts a call's size. */
    static final int EVENT_OVERHEAD = 26;
    /** Largest event (message bytes + 26) by default: 256 KiB, the long-standing service limit. */
    static final int DEFAULT_MAX_EVENT_BYTES = 262_144;

    static CloudWatchSettings of(CloudWatchBackendComponent.Config c, Map<String, ?> properties) {
        String keys = ConfigCheck.keysAndTypes(CloudWatchBackendComponent.Config.class, c, properties);
        if (keys != null) {
            throw new IllegalArgumentException(keys);
        }
        List<String> problems = new ArrayList<>();
        NameTemplate group = template(problems, "log.group.template", c.log_group_template(), NameTemplate.Kind.GROUP);
        NameTemplate stream = template(problems, "log.stream.template", c.log_stream_template(), NameTemplate.Kind.STREAM);
        String region = trim(c.region());
        if (!region.isEmpty() && !region.matches("[a-z0-9-]+")) {
            problems.add("'region' must look like eu-west-1, not \"" + region + "\"");
        }
        URI endpoint = null;
        String ep = trim(c.endpoint());
        if (!ep.isEmpty()) {
            try {
                endpoint = new URI(ep);
                String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
                if (!scheme.equals("http") && !scheme.equals("https") || endpoint.getHost() == null) {
                    problems.add("'endpoint' must be an http:// or https:// URL with a host, e.g. https://logs.eu-west-1.amazonaws.com");
                    endpoint = null;
                } else if (endpoint.getRawUserInfo() != null) {
                    problems.add("'endpoint' must not carry user info");
                    endpoint = null;
                }
            } catch (URISyntaxException e) {
                problems.add("'endpoint' is not a valid URL: " + e.getReason() + " at index " + e.getIndex());
            }
        }
        String keyId = trim(c.access_key_id());
        String secret = trim(c.secret_access_key());
        String token = trim(c.session_token());
        if (keyId.isEmpty() != secret.isEmpty()) {
            problems.add("'access.key.id' and 'secret.access.key' go together: set both, or neither to use the default credential chain");
        }
        if (!token.isEmpty() && keyId.isEmpty()) {
            problems.add("'session.token' needs 'access.key.id' and 'secret.access.key'");
        }
        range(problems, "parallelism", c.parallelism(), 1, 64);
        range(problems, "max.events.per.call", c.max_events_per_call(), 1, SERVICE_MAX_EVENTS);
        range(problems, "max.bytes.per.call", c.max_bytes_per_call(), EVENT_OVERHEAD + 1, SERVICE_MAX_BYTES);
        range(problems, "max.event.bytes", c.max_event_bytes(), EVENT_OVERHEAD + 1, SERVICE_MAX_BYTES);
        if (c.max_event_bytes() > c.max_bytes_per_call()) {
            problems.add("'max.event.bytes' (" + c.max_event_bytes() + ") must not exceed 'max.bytes.per.call' ("
                    + c.max_bytes_per_call() + ")");
        }
        range(problems, "connect.timeout.ms", c.connect_timeout_ms(), 1, Integer.MAX_VALUE);
        range(problems, "request.timeout.ms", c.request_timeout_ms(), 1, Integer.MAX_VALUE);
        range(problems, "max.attempts", c.max_attempts(), 1, 10);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return new CloudWatchSettings(region, endpoint, keyId, secret, token, group, stream, c.create_group(),
                c.create_stream(), c.parallelism(), c.max_events_per_call(), c.max_bytes_per_call(),
                c.max_event_bytes(), Duration.ofMillis(c.connect_timeout_ms()), Duration.ofMillis(c.request_timeout_ms()),
                c.max_attempts());
    }

    private static NameTemplate template(List<String> problems, String key, String value, NameTemplate.Kind kind) {
        try {
            return new NameTemplate(key, trim(value), kind);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    private static void range(List<String> problems, String key, long value, long min, long max) {
        if (value < min || value > max) {
            problems.add("'" + key + "' must be " + min + ".." + max + ", not " + value);
        }
    }

    /** Trims, and removes one pair of surrounding double quotes (fileinstall plain text). */
    static String trim(String value) {
        if (value == null) {
            return "";
        }
        String t = value.trim();
        if (t.length() >= 2 && t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"') {
            t = t.substring(1, t.length() - 1).trim();
        }
        return t;
    }

    boolean staticCredentials() {
        return !accessKeyId.isEmpty();
    }

    /** The effective configuration for the log; names the credential source, never a secret. */
    String describe() {
        return "region=" + (region.isEmpty() ? "(default chain)" : region)
                + ", endpoint=" + (endpoint == null ? "(AWS)" : endpoint)
                + ", credentials=" + (staticCredentials() ? "access.key.id " + maskedKeyId() : "default chain")
                + ", log.group.template=" + groupTemplate + ", log.stream.template=" + streamTemplate
                + ", create.group=" + createGroup + ", create.stream=" + createStream
                + ", parallelism=" + parallelism + ", max.events.per.call=" + maxEventsPerCall
                + ", max.bytes.per.call=" + maxBytesPerCall + ", max.event.bytes=" + maxEventBytes
                + ", max.attempts=" + maxAttempts;
    }

    /** The first 4 characters of the key id (it is not secret, but needs not be logged whole). */
    private String maskedKeyId() {
        return accessKeyId.length() <= 4 ? "****" : accessKeyId.substring(0, 4) + "****";
    }

    /** Never prints the secret or the session token. */
    @Override
    public String toString() {
        return "CloudWatchSettings[" + describe() + "]";
    }
}
