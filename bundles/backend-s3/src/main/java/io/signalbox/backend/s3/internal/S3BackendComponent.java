package io.signalbox.backend.s3.internal;

import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.ConfigCheck;

/**
 * One S3 backend per factory configuration {@code etc/io.signalbox.backend.s3-<name>.cfg}, run by
 * a {@link BackendLifecycle}: the configuration is validated as a whole ({@link S3Settings#of})
 * before it takes effect. Invalid at activation: logged, counted, and {@link ConfigCheck.Rejected}
 * thrown, so nothing is registered until the file is corrected. Invalid on modification: logged,
 * counted, and the configuration in force stays. A valid modification is applied by the backend
 * ({@link S3Backend#update}: its pending objects are uploaded with the old settings, then it goes
 * on with the new ones); a new instance name registers the backend anew. Configuration values
 * (credentials) are never published as service properties.
 */
@Component(name = S3BackendComponent.FACTORY_PID, configurationPid = S3BackendComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = S3BackendComponent.Config.class, factory = true)
public final class S3BackendComponent {
    /** Factory PID: {@code etc/io.signalbox.backend.s3-<name>.cfg}. */
    public static final String FACTORY_PID = "io.signalbox.backend.s3";
    /** Value of the {@value Backend#KIND} service property. */
    public static final String KIND = "s3";

    private static final Logger LOG = LoggerFactory.getLogger(S3BackendComponent.class);

    @ObjectClassDefinition(id = FACTORY_PID, name = "Signalbox S3 backend",
            description = "Batches per source into JSONL (gzip) objects in an S3 bucket, staged on local disk until uploaded.")
    public @interface Config {
        @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.")
        String name() default "";

        @AttributeDefinition(description = "Bucket (required).")
        String bucket() default "";

        @AttributeDefinition(description = "Key prefix, e.g. signalbox/ (used by {prefix} in key.template).")
        String prefix() default "";

        @AttributeDefinition(description = "AWS region (also needed, but arbitrary, for most S3-compatible stores).")
        String region() default "us-east-1";

        @AttributeDefinition(description = "Endpoint URL of an S3-compatible store; empty = AWS.")
        String endpoint() default "";

        @AttributeDefinition(description = "Path-style requests (http://host/bucket/key), needed by most S3-compatible stores.")
        boolean path_style() default false;

        @AttributeDefinition(description = "Access key id; empty (with secret.access.key) = the default credential chain.")
        String access_key_id() default "";

        @AttributeDefinition(description = "Secret access key; use ${env:NAME}. Never logged.", type = AttributeType.PASSWORD)
        String secret_access_key() default "";

        @AttributeDefinition(description = "Gzip objects (and keep the .gz of key.template; without gzip it is dropped).")
        boolean gzip() default true;

        @AttributeDefinition(description = "Object key template.")
        String key_template() default "{prefix}{source}/{yyyy}/{MM}/{dd}/{HH}/{uuid}.jsonl.gz";

        @AttributeDefinition(description = "An object is closed and uploaded when its uncompressed size reaches this many MiB.")
        long object_max_mb() default 8;

        @AttributeDefinition(description = "... or when its first batch is this old, in seconds.")
        long object_max_age_seconds() default 60;

        @AttributeDefinition(description = "Objects larger than this (after gzip) are sent as multipart uploads of parts of this size, MiB (5-2047).")
        int part_size_mb() default 8;

        @AttributeDefinition(description = "Staging directory; the backend uses <staging.dir>/<name>/. Relative to the working directory.")
        String staging_dir() default "data/s3";

        @AttributeDefinition(description = "Largest staging of this backend in MiB; when full, write() fails and routing retries/spools.")
        long staging_max_mb() default 1024;

        @AttributeDefinition(description = "fsync the staging file after each batch (slower; survives power loss, not just a crash).")
        boolean fsync() default false;

        @AttributeDefinition(description = "First delay before a failed upload is retried, ms; doubles up to retry.max.ms.")
        long retry_initial_ms() default 1000;

        @AttributeDefinition(description = "Longest delay between upload retries, ms.")
        long retry_max_ms() default 60000;

        @AttributeDefinition(description = "Objects uploaded in parallel.")
        int upload_threads() default 2;

        @AttributeDefinition(description = "Connect timeout, ms.")
        long connect_timeout_ms() default 10000;

        @AttributeDefinition(description = "Socket read timeout, ms.")
        long socket_timeout_ms() default 60000;

        @AttributeDefinition(description = "On stop, how long to keep uploading pending objects, s; what is left stays staged for the next start.")
        long close_timeout_seconds() default 30;
    }

    private final BackendLifecycle<S3Settings, S3Backend> lifecycle;

    @Activate
    public S3BackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        lifecycle = new BackendLifecycle<>(context, FACTORY_PID, KIND, LOG, S3Backend::new, S3Settings::toString);
        lifecycle.activate(properties, config.name(), () -> S3Settings.of(config, properties));
    }

    @Modified
    void modified(Config config, Map<String, Object> properties) {
        lifecycle.modify(properties, config.name(), () -> S3Settings.of(config, properties));
    }

    /** Unregisters the backend, then uploads its pending objects (for up to close.timeout.seconds) and closes it. */
    @Deactivate
    void deactivate() {
        lifecycle.deactivate();
    }
}
