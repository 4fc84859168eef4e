package io.signalbox.backend.cloudwatch.internal;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

import io.signalbox.api.ConfigValues;

/**
 * A validated CloudWatch configuration: {@link #of} checks it as a whole through
 * {@link ConfigValues} (unknown keys, types, limits, endpoint, {@code ${env:…}} credentials) plus
 * the backend's own rules (name templates, region shape, credential pairs) and throws one
 * {@link io.signalbox.api.ConfigCheck.Rejected} naming every problem, none of which contains a secret.
 */
public record CloudWatchSettings(String region, URI endpoint, String accessKeyId, String secretAccessKey,
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

    /**
     * Validates the whole configuration.
     *
     * @throws io.signalbox.api.ConfigCheck.Rejected naming every problem, none of which contains a secret
     */
    public static CloudWatchSettings of(CloudWatchConfig c, Map<String, ?> properties) {
        return of(c, properties, System::getenv);
    }

    /** The same, resolving {@code ${env:NAME}} in the credentials through {@code env}. */
    static CloudWatchSettings of(CloudWatchConfig c, Map<String, ?> properties,
            Function<String, String> env) {
        ConfigValues v = ConfigValues.of(CloudWatchConfig.class, c, properties, env);
        NameTemplate group = v.parse(() -> new NameTemplate("log.group.template",
                ConfigValues.unquote(c.log_group_template()), NameTemplate.Kind.GROUP));
        NameTemplate stream = v.parse(() -> new NameTemplate("log.stream.template",
                ConfigValues.unquote(c.log_stream_template()), NameTemplate.Kind.STREAM));
        String region = ConfigValues.unquote(c.region());
        v.check(region.isEmpty() || region.matches("[a-z0-9-]+"),
                "'region' must look like eu-west-1, is \"" + region + "\"");
        URI endpoint = v.httpUrl("endpoint", c.endpoint(), null);
        String keyId = v.secret("access.key.id", c.access_key_id());
        String secret = v.secret("secret.access.key", c.secret_access_key());
        String token = v.secret("session.token", c.session_token());
        v.check(keyId.isEmpty() == secret.isEmpty(), "'access.key.id' and 'secret.access.key' go together: set both, "
                + "or neither to use the default credential chain");
        v.check(token.isEmpty() || !keyId.isEmpty(), "'session.token' needs 'access.key.id' and 'secret.access.key'");
        int parallelism = v.range("parallelism", c.parallelism(), 1, 64);
        int maxEvents = v.range("max.events.per.call", c.max_events_per_call(), 1, SERVICE_MAX_EVENTS);
        int maxBytes = v.range("max.bytes.per.call", c.max_bytes_per_call(), EVENT_OVERHEAD + 1, SERVICE_MAX_BYTES);
        int maxEvent = v.range("max.event.bytes", c.max_event_bytes(), EVENT_OVERHEAD + 1, SERVICE_MAX_BYTES);
        v.check(maxEvent <= maxBytes, "'max.event.bytes' (" + maxEvent + ") must not exceed 'max.bytes.per.call' ("
                + maxBytes + ")");
        int connect = v.atLeast("connect.timeout.ms", c.connect_timeout_ms(), 1);
        int request = v.atLeast("request.timeout.ms", c.request_timeout_ms(), 1);
        int attempts = v.range("max.attempts", c.max_attempts(), 1, 10);
        v.done();
        return new CloudWatchSettings(region, endpoint, keyId, secret, token, group, stream, c.create_group(),
                c.create_stream(), parallelism, maxEvents, maxBytes, maxEvent, Duration.ofMillis(connect),
                Duration.ofMillis(request), attempts);
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
