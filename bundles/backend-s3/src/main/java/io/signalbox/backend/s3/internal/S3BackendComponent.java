package io.signalbox.backend.s3.internal;

import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
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
import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.StatsSource;

/**
 * One S3 backend per factory configuration {@code etc/io.signalbox.backend.s3-<name>.cfg}.
 *
 * <p>The configuration is validated as a whole before it takes effect. Invalid at activation: an
 * ERROR with the reason and nothing is registered (until the file is corrected). Invalid on modification: an ERROR and the
 * previous configuration stays in force. A valid modification replaces the backend: the old one
 * is unregistered and closed (its pending objects are uploaded, or stay staged on disk), then a new
 * one is started with the new settings and picks up whatever is staged under its name.
 *
 * <p>The component registers the {@link S3Backend} as {@link Backend} and {@link StatsSource}
 * itself, with {@value Backend#NAME} = the instance name and {@value Backend#KIND} = {@value #KIND}.
 * Configuration values are not published as service properties (credentials).
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
        String bucket();

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

    private final BundleContext context;
    private S3Backend backend;
    private ServiceRegistration<?> registration;

    @Activate
    public S3BackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        this.context = context;
        apply(config, properties, false);
    }

    /** A changed configuration: applied if valid (the backend is replaced), else rejected with the previous one kept. */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        apply(config, properties, true);
    }

    private synchronized void apply(Config config, Map<String, Object> properties, boolean modification) {
        S3Settings settings;
        String name;
        try {
            settings = S3Settings.of(config, properties);
            name = instanceName(config, properties);
        } catch (IllegalArgumentException e) {
            String consequence = !modification ? ""
                    : backend != null ? "; the previous configuration stays in force"
                    : "; the backend stays unregistered";
            // not thrown at activation: SCR would then ignore the corrected file (seen in Felix), so the
            // component stays active with nothing registered until a valid @Modified arrives
            LOG.error("{}{}", ConfigCheck.rejection(FACTORY_PID, properties, e.getMessage()), consequence);
            return;
        }
        if (backend != null) {
            LOG.info("s3 backend \"{}\" is replaced by a new configuration", backend.name());
            unregister();
        }
        S3Backend created;
        try {
            created = new S3Backend(name, settings);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.error("s3 backend \"{}\" cannot start (nothing registered until the configuration changes): {}",
                    name, e.toString());
            return;
        }
        try {
            registration = context.registerService(
                    new String[] {Backend.class.getName(), StatsSource.class.getName()}, created,
                    serviceProperties(properties, name));
        } catch (RuntimeException e) {
            created.close();
            throw e;
        }
        backend = created;
        LOG.info("s3 backend \"{}\" started: {}", name, settings);
    }

    /** Unregisters the backend (routing stops using it once its write in flight is done), then flushes and closes it. */
    @Deactivate
    public synchronized void deactivate() {
        S3Backend b = backend;
        unregister();
        if (b != null) {
            LOG.info("s3 backend \"{}\" stopped", b.name());
        }
    }

    private void unregister() {
        ServiceRegistration<?> r = registration;
        S3Backend b = backend;
        registration = null;
        backend = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("s3 backend \"{}\" was already unregistered", b == null ? "?" : b.name(), e);
            }
        }
        if (b != null) {
            b.close();
        }
    }

    /** The backend in service, or {@code null}. */
    synchronized S3Backend backend() {
        return backend;
    }

    static String instanceName(Config config, Map<String, ?> properties) {
        String explicit = S3Settings.unquote(config.name());
        if (!explicit.isEmpty()) {
            return check(explicit);
        }
        String derived = BackendNames.of(properties);
        if (derived != null && !derived.isBlank()) {
            return check(derived);
        }
        throw new IllegalArgumentException("no backend name: set 'name' or use a file etc/" + FACTORY_PID + "-<name>.cfg");
    }

    /** The name is a staging directory name too. */
    private static String check(String name) {
        if (!KeyTemplate.safe(name).equals(name)) {
            throw new IllegalArgumentException("backend name \"" + name + "\" may only contain A-Z a-z 0-9 . _ -");
        }
        return name;
    }

    static Hashtable<String, Object> serviceProperties(Map<String, ?> properties, String name) {
        return BackendNames.serviceProperties(properties, name, KIND);
    }
}
