package io.signalbox.backend.s3.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

import io.signalbox.api.ConfigCheck;

/**
 * A validated S3 backend configuration. {@link #of} checks the configuration as a whole (unknown
 * keys, types, bucket, endpoint, credentials pair, sizes, key template) and throws
 * {@link IllegalArgumentException} with a one-line reason that never contains the secret key.
 * {@link #toString()} never shows the secret either.
 */
record S3Settings(String bucket, String prefix, String region, URI endpoint, boolean pathStyle,
        String accessKeyId, String secretAccessKey, boolean gzip, KeyTemplate keyTemplate,
        long objectMaxBytes, Duration objectMaxAge, int partSizeBytes, Path stagingDir, long stagingMaxBytes,
        boolean fsync, Duration retryInitial, Duration retryMax, int uploadThreads, Duration connectTimeout,
        Duration socketTimeout, Duration closeTimeout) {

    static final long MIB = 1024L * 1024;
    /** S3: every part but the last is at least 5 MiB; at most 5 GiB. */
    static final int MIN_PART_MB = 5;
    static final int MAX_PART_MB = 2047;
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern ENV = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)\\}");

    /** Validates the whole configuration; {@code env} resolves {@code ${env:NAME}} (tests pass their own). */
    static S3Settings of(S3BackendComponent.Config c, Map<String, ?> properties, Function<String, String> env) {
        Object rawBucket = properties.get("bucket");
        if (rawBucket == null || unquote(rawBucket.toString()).isEmpty()) {
            // no default: the typed accessor would throw; say what is missing instead
            throw new IllegalArgumentException("'bucket' is required, e.g. bucket=my-signalbox-archive");
        }
        String reason = ConfigCheck.keysAndTypes(S3BackendComponent.Config.class, c, properties);
        if (reason != null) {
            throw new IllegalArgumentException(reason);
        }
        String bucket = unquote(c.bucket());
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
            throw new IllegalArgumentException("'bucket' \"" + bucket + "\" is not a valid S3 bucket name "
                    + "(3-63 characters: a-z 0-9 . -, starting and ending with a letter or digit)");
        }
        String prefix = unquote(c.prefix());
        if (prefix.startsWith("/")) {
            throw new IllegalArgumentException("'prefix' must not start with '/'");
        }
        String region = unquote(c.region());
        if (region.isEmpty()) {
            throw new IllegalArgumentException("'region' must not be empty");
        }
        URI endpoint = endpoint(unquote(c.endpoint()));
        String keyId = resolve("access.key.id", unquote(c.access_key_id()), env);
        String secret = resolve("secret.access.key", unquote(c.secret_access_key()), env);
        if (keyId.isEmpty() != secret.isEmpty()) {
            throw new IllegalArgumentException("'access.key.id' and 'secret.access.key' must be set together "
                    + "(or both left empty for the default credential chain); note that fileinstall turns an unset "
                    + "${env:NAME} into an empty value");
        }
        KeyTemplate template = KeyTemplate.parse(unquote(c.key_template()));
        if (!c.gzip()) {
            template = template.withoutGz();
        }
        long objectMax = positive("object.max.mb", c.object_max_mb());
        long age = positive("object.max.age.seconds", c.object_max_age_seconds());
        int part = (int) positive("part.size.mb", c.part_size_mb());
        if (part < MIN_PART_MB || part > MAX_PART_MB) {
            throw new IllegalArgumentException("'part.size.mb' must be between " + MIN_PART_MB + " and " + MAX_PART_MB
                    + " (S3 multipart limits), not " + part);
        }
        long stagingMax = positive("staging.max.mb", c.staging_max_mb());
        if (stagingMax < objectMax) {
            throw new IllegalArgumentException("'staging.max.mb' (" + stagingMax + ") must be at least 'object.max.mb' ("
                    + objectMax + ")");
        }
        String dir = unquote(c.staging_dir());
        if (dir.isEmpty()) {
            throw new IllegalArgumentException("'staging.dir' must not be empty");
        }
        long retryInitial = positive("retry.initial.ms", c.retry_initial_ms());
        long retryMax = positive("retry.max.ms", c.retry_max_ms());
        if (retryMax < retryInitial) {
            throw new IllegalArgumentException("'retry.max.ms' must be at least 'retry.initial.ms'");
        }
        int threads = (int) positive("upload.threads", c.upload_threads());
        if (threads > 64) {
            throw new IllegalArgumentException("'upload.threads' must be at most 64, not " + threads);
        }
        return new S3Settings(bucket, prefix, region, endpoint, c.path_style(), keyId, secret, c.gzip(), template,
                objectMax * MIB, Duration.ofSeconds(age), part * (int) MIB, Path.of(dir), stagingMax * MIB, c.fsync(),
                Duration.ofMillis(retryInitial), Duration.ofMillis(retryMax), threads,
                Duration.ofMillis(positive("connect.timeout.ms", c.connect_timeout_ms())),
                Duration.ofMillis(positive("socket.timeout.ms", c.socket_timeout_ms())),
                Duration.ofSeconds(positive("close.timeout.seconds", c.close_timeout_seconds())));
    }

    static S3Settings of(S3BackendComponent.Config c, Map<String, ?> properties) {
        return of(c, properties, System::getenv);
    }

    /** A copy with other sizes and times (tests and benchmarks use sizes below the configurable MiB). */
    S3Settings withLimits(long objectMaxBytes, Duration objectMaxAge, int partSizeBytes) {
        return new S3Settings(bucket, prefix, region, endpoint, pathStyle, accessKeyId, secretAccessKey, gzip,
                keyTemplate, objectMaxBytes, objectMaxAge, partSizeBytes, stagingDir, stagingMaxBytes, fsync,
                retryInitial, retryMax, uploadThreads, connectTimeout, socketTimeout, closeTimeout);
    }

    S3Settings withStaging(Path dir, long maxBytes) {
        return new S3Settings(bucket, prefix, region, endpoint, pathStyle, accessKeyId, secretAccessKey, gzip,
                keyTemplate, objectMaxBytes, objectMaxAge, partSizeBytes, dir, maxBytes, fsync,
                retryInitial, retryMax, uploadThreads, connectTimeout, socketTimeout, closeTimeout);
    }

    S3Settings withRetry(Duration initial, Duration max) {
        return new S3Settings(bucket, prefix, region, endpoint, pathStyle, accessKeyId, secretAccessKey, gzip,
                keyTemplate, objectMaxBytes, objectMaxAge, partSizeBytes, stagingDir, stagingMaxBytes, fsync,
                initial, max, uploadThreads, connectTimeout, socketTimeout, closeTimeout);
    }

    S3Settings withCloseTimeout(Duration timeout) {
        return new S3Settings(bucket, prefix, region, endpoint, pathStyle, accessKeyId, secretAccessKey, gzip,
                keyTemplate, objectMaxBytes, objectMaxAge, partSizeBytes, stagingDir, stagingMaxBytes, fsync,
                retryInitial, retryMax, uploadThreads, connectTimeout, socketTimeout, timeout);
    }

    boolean staticCredentials() {
        return !accessKeyId.isEmpty();
    }

    /** {@code ${env:NAME}} (the whole value) → the variable; fileinstall usually substituted it already. */
    private static String resolve(String key, String value, Function<String, String> env) {
        var m = ENV.matcher(value);
        if (!m.matches()) {
            return value;
        }
        String v = env.apply(m.group(1));
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("'" + key + "' refers to environment variable " + m.group(1)
                    + ", which is not set");
        }
        return v.trim();
    }

    private static URI endpoint(String text) {
        if (text.isEmpty()) {
            return null;
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'endpoint' is not a valid URL: " + e.getReason(), e);
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                || uri.getHost() == null) {
            throw new IllegalArgumentException("'endpoint' must be an http:// or https:// URL with a host, e.g. "
                    + "endpoint=http://127.0.0.1:9000");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("'endpoint' must not carry user info; use access.key.id/secret.access.key");
        }
        return uri;
    }

    private static long positive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException("'" + key + "' must be greater than 0, not " + value);
        }
        return value;
    }

    static String unquote(String value) {
        if (value == null) {
            return "";
        }
        String t = value.trim();
        if (t.length() >= 2 && t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"') {
            t = t.substring(1, t.length() - 1).trim();
        }
        return t;
    }

    /** Effective configuration for the log; the secret key is never shown, the key id only as its first 4 characters. */
    @Override
    public String toString() {
        return "bucket=" + bucket + ", prefix=" + prefix + ", region=" + region
                + ", endpoint=" + (endpoint == null ? "(AWS)" : endpoint) + ", path.style=" + pathStyle
                + ", credentials=" + (staticCredentials()
                        ? "static (access.key.id=" + accessKeyId.substring(0, Math.min(4, accessKeyId.length())) + "…)"
                        : "default chain")
                + ", gzip=" + gzip + ", key.template=" + keyTemplate + ", object.max.bytes=" + objectMaxBytes
                + ", object.max.age=" + objectMaxAge.toMillis() + " ms, part.size.bytes=" + partSizeBytes
                + ", staging.dir=" + stagingDir + ", staging.max.bytes=" + stagingMaxBytes + ", fsync=" + fsync
                + ", upload.threads=" + uploadThreads;
    }
}
