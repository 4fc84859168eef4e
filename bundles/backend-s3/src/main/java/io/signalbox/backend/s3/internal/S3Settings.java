package io.signalbox.backend.s3.internal;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.ConfigValues;

/**
 * A validated S3 backend configuration. {@link #of} checks the configuration as a whole through
 * {@link ConfigValues} (unknown keys, types, sizes, endpoint, {@code ${env:…}} credentials) plus
 * the backend's own rules (bucket name, key template, credentials pair, an instance name that can
 * name a directory) and throws one {@link io.signalbox.api.ConfigCheck.Rejected} naming every
 * problem, none of which contains the secret key. {@link #toString()} never shows the secret either.
 */
public record S3Settings(String bucket, String prefix, String region, URI endpoint, boolean pathStyle,
        String accessKeyId, String secretAccessKey, boolean gzip, KeyTemplate keyTemplate,
        long objectMaxBytes, Duration objectMaxAge, int partSizeBytes, Path stagingDir, long stagingMaxBytes,
        boolean fsync, Duration retryInitial, Duration retryMax, int uploadThreads, Duration connectTimeout,
        Duration socketTimeout, Duration closeTimeout) {

    static final long MIB = 1024L * 1024;
    /** S3: every part but the last is at least 5 MiB; at most 5 GiB. */
    static final int MIN_PART_MB = 5;
    static final int MAX_PART_MB = 2047;
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** Validates the whole configuration; {@code env} resolves {@code ${env:NAME}} (tests pass their own). */
    public static S3Settings of(S3Config c, Map<String, ?> properties, Function<String, String> env) {
        ConfigValues v = ConfigValues.of(S3Config.class, c, properties, env);
        String bucket = v.required("bucket", c.bucket(), "my-signalbox-archive");
        v.check(bucket.isEmpty() || BUCKET.matcher(bucket).matches() && !bucket.contains(".."), "'bucket' \"" + bucket
                + "\" is not a valid S3 bucket name (3-63 characters: a-z 0-9 . -, starting and ending with a letter "
                + "or digit)");
        String prefix = ConfigValues.unquote(c.prefix());
        v.check(!prefix.startsWith("/"), "'prefix' must not start with '/'");
        String region = v.required("region", c.region(), "us-east-1");
        URI endpoint = v.httpUrl("endpoint", c.endpoint(), null);
        String keyId = v.secret("access.key.id", c.access_key_id());
        String secret = v.secret("secret.access.key", c.secret_access_key());
        v.check(keyId.isEmpty() == secret.isEmpty(), "'access.key.id' and 'secret.access.key' must be set together "
                + "(or both left empty for the default credential chain); note that fileinstall turns an unset "
                + "${env:NAME} into an empty value");
        KeyTemplate template = v.parse(() -> KeyTemplate.parse(ConfigValues.unquote(c.key_template())));
        long objectMax = v.atLeast("object.max.mb", c.object_max_mb(), 1);
        long age = v.atLeast("object.max.age.seconds", c.object_max_age_seconds(), 1);
        int part = v.range("part.size.mb", c.part_size_mb(), MIN_PART_MB, MAX_PART_MB);
        long stagingMax = v.atLeast("staging.max.mb", c.staging_max_mb(), 1);
        v.check(stagingMax >= objectMax, "'staging.max.mb' (" + stagingMax + ") must be at least 'object.max.mb' ("
                + objectMax + ")");
        String dir = v.required("staging.dir", c.staging_dir(), "data/s3");
        long retryInitial = v.atLeast("retry.initial.ms", c.retry_initial_ms(), 1);
        long retryMax = v.atLeast("retry.max.ms", c.retry_max_ms(), 1);
        v.check(retryMax >= retryInitial, "'retry.max.ms' must be at least 'retry.initial.ms'");
        int threads = v.range("upload.threads", c.upload_threads(), 1, 64);
        long connect = v.atLeast("connect.timeout.ms", c.connect_timeout_ms(), 1);
        long socket = v.atLeast("socket.timeout.ms", c.socket_timeout_ms(), 1);
        long close = v.atLeast("close.timeout.seconds", c.close_timeout_seconds(), 1);
        String name = instanceName(c, properties);
        v.check(name == null || KeyTemplate.safe(name).equals(name), "backend name \"" + name
                + "\" may only contain A-Z a-z 0-9 . _ - (it names the staging directory)");
        v.done();
        return new S3Settings(bucket, prefix, region, endpoint, c.path_style(), keyId, secret, c.gzip(),
                c.gzip() ? template : template.withoutGz(), objectMax * MIB, Duration.ofSeconds(age), part * (int) MIB,
                Path.of(dir), stagingMax * MIB, c.fsync(), Duration.ofMillis(retryInitial), Duration.ofMillis(retryMax),
                threads, Duration.ofMillis(connect), Duration.ofMillis(socket), Duration.ofSeconds(close));
    }

    public static S3Settings of(S3Config c, Map<String, ?> properties) {
        return of(c, properties, System::getenv);
    }

    /** The instance name, or {@code null} if there is none (the {@link BackendLifecycle} rejects that itself). */
    private static String instanceName(S3Config c, Map<String, ?> properties) {
        try {
            return BackendLifecycle.instanceName(S3Config.PID, c.name(), properties);
        } catch (IllegalArgumentException e) {
            return null;
        }
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
