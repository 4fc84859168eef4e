package io.signalbox.backend.cloudwatch.internal;

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
 * One CloudWatch Logs backend per factory configuration
 * {@code etc/io.signalbox.backend.cloudwatch-<name>.cfg}.
 *
 * <p>The configuration is validated as a whole. Invalid at activation: an ERROR with the reason
 * and nothing is registered. Invalid on modification: an ERROR and the configuration in force
 * stays. A valid modification applies from the next batch (a new SDK client); a new instance
 * name registers the backend anew under that name. The component registers the
 * {@link CloudWatchBackend} as {@link Backend} and {@link StatsSource} itself with
 * {@value Backend#NAME} and {@value Backend#KIND} = {@value #KIND}; configuration values
 * (credentials) are never published or logged.
 */
@Component(name = CloudWatchBackendComponent.FACTORY_PID, configurationPid = CloudWatchBackendComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = CloudWatchBackendComponent.Config.class, factory = true)
public final class CloudWatchBackendComponent {
    /** Factory PID: {@code etc/io.signalbox.backend.cloudwatch-<name>.cfg}. */
    public static final String FACTORY_PID = "io.signalbox.backend.cloudwatch";
    /** Value of the {@value Backend#KIND} service property. */
    public static final String KIND = "cloudwatch";

    private static final Logger LOG = LoggerFactory.getLogger(CloudWatchBackendComponent.class);

    @ObjectClassDefinition(id = FACTORY_PID, name = "Signalbox CloudWatch Logs backend",
            description = "Writes each batch with PutLogEvents to a log group and stream named by templates.")
    public @interface Config {
        @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.")
        String name() default "";

        @AttributeDefinition(description = "AWS region, e.g. eu-west-1; empty = the SDK's default region chain (AWS_REGION, profile).")
        String region() default "";

        @AttributeDefinition(description = "Endpoint URL override (VPC endpoint, test server); empty = the region's endpoint.")
        String endpoint() default "";

        @AttributeDefinition(description = "Access key id; empty (with secret.access.key) = the default credential chain.")
        String access_key_id() default "";

        @AttributeDefinition(description = "Secret access key, e.g. ${env:AWS_SECRET_ACCESS_KEY}; never logged.",
                type = AttributeType.PASSWORD)
        String secret_access_key() default "";

        @AttributeDefinition(description = "Session token of temporary credentials; never logged.", type = AttributeType.PASSWORD)
        String session_token() default "";

        @AttributeDefinition(description = "Log group name template; placeholders {source} and {type}.")
        String log_group_template() default "signalbox";

        @AttributeDefinition(description = "Log stream name template; placeholders {source} and {type}.")
        String log_stream_template() default "{source}";

        @AttributeDefinition(description = "Create a missing log group (an existing one is fine).")
        boolean create_group() default true;

        @AttributeDefinition(description = "Create a missing log stream (an existing one is fine).")
        boolean create_stream() default true;

        @AttributeDefinition(description = "Streams written at the same time (one call per stream at a time).")
        int parallelism() default 4;

        @AttributeDefinition(description = "Most events per PutLogEvents call (service limit 10000).")
        int max_events_per_call() default 10000;

        @AttributeDefinition(description = "Most bytes per call: UTF-8 message bytes + 26 per event (service limit 1048576).")
        int max_bytes_per_call() default 1048576;

        @AttributeDefinition(description = "Largest event (message bytes + 26); larger events are dropped and counted.")
        int max_event_bytes() default 262144;

        @AttributeDefinition(description = "Connect timeout in milliseconds.")
        int connect_timeout_ms() default 5000;

        @AttributeDefinition(description = "Time allowed for one API call, retries included, in milliseconds.")
        int request_timeout_ms() default 30000;

        @AttributeDefinition(description = "Attempts per API call by the SDK (throttling, 5xx); the routing channel retries the batch after that.")
        int max_attempts() default 3;
    }

    private final BundleContext context;
    private CloudWatchBackend backend;
    private ServiceRegistration<?> registration;

    @Activate
    public CloudWatchBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        this.context = context;
        apply(config, properties, false);
    }

    /** A changed configuration: applied if valid, else rejected with the previous one kept. */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        apply(config, properties, true);
    }

    /** @return whether the configuration was applied */
    synchronized boolean apply(Config config, Map<String, ?> properties, boolean modification) {
        CloudWatchSettings settings;
        String name;
        CloudWatchBackend.Target target;
        try {
            settings = CloudWatchSettings.of(config, properties);
            name = instanceName(config, properties);
            target = CloudWatchBackend.target(settings);
        } catch (RuntimeException e) {
            // IllegalArgumentException from validation, SdkClientException from the client builder
            // (no region in the default chain); neither message carries a secret
            String consequence = !modification ? "; the backend is not registered"
                    : backend != null ? "; the previous configuration stays in force"
                    : "; the backend stays unregistered";
            LOG.error("{}{}", ConfigCheck.rejection(FACTORY_PID, properties, e.getMessage()), consequence);
            return false;
        }
        if (backend != null && backend.name().equals(name)) {
            backend.update(target);
            try {
                registration.setProperties(serviceProperties(properties, name));
            } catch (IllegalStateException e) {
                LOG.warn("CloudWatch backend \"{}\": its registration is gone; new properties not published", name, e);
            }
            LOG.info("CloudWatch backend \"{}\" reconfigured: {}", name, settings.describe());
            return true;
        }
        if (backend != null) {
            LOG.info("CloudWatch backend \"{}\" renamed to \"{}\": registered anew", backend.name(), name);
            unregister();
        }
        CloudWatchBackend created = new CloudWatchBackend(name, target);
        try {
            registration = context.registerService(
                    new String[] {Backend.class.getName(), StatsSource.class.getName()}, created,
                    serviceProperties(properties, name));
        } catch (RuntimeException e) {
            created.close();
            throw e;
        }
        backend = created;
        LOG.info("CloudWatch backend \"{}\" started: {}", name, settings.describe());
        return true;
    }

    /** Unregisters the backend (routing stops using it once its write in flight is done), then closes it. */
    @Deactivate
    public synchronized void deactivate() {
        CloudWatchBackend b = backend;
        unregister();
        if (b != null) {
            LOG.info("CloudWatch backend \"{}\" stopped", b.name());
        }
    }

    private void unregister() {
        ServiceRegistration<?> r = registration;
        CloudWatchBackend b = backend;
        registration = null;
        backend = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("CloudWatch backend \"{}\" was already unregistered", b == null ? "?" : b.name(), e);
            }
        }
        if (b != null) {
            b.close();
        }
    }

    /** The backend in service, or {@code null} if no valid configuration was ever given. */
    synchronized CloudWatchBackend backend() {
        return backend;
    }

    /** The instance name: explicit {@code name}, else the PID or file name part (see {@link BackendNames}). */
    static String instanceName(Config config, Map<String, ?> properties) {
        String explicit = CloudWatchSettings.trim(config.name());
        if (!explicit.isEmpty()) {
            return explicit;
        }
        String derived = BackendNames.of(properties);
        if (derived != null && !derived.isBlank()) {
            return derived;
        }
        Object pid = properties.get("service.pid");
        if (pid != null) {
            return pid.toString();
        }
        throw new IllegalArgumentException("no backend name: set 'name' or use a file etc/" + FACTORY_PID + "-<name>.cfg");
    }

    /** Framework properties of the configuration (PIDs, file name) plus name and kind; never its values. */
    static Hashtable<String, Object> serviceProperties(Map<String, ?> properties, String name) {
        return BackendNames.serviceProperties(properties, name, KIND);
    }
}
