package io.signalbox.backend.cloudwatch.internal;

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
 * One CloudWatch Logs backend per factory configuration
 * {@code etc/io.signalbox.backend.cloudwatch-<name>.cfg}, run by a {@link BackendLifecycle}: the
 * configuration is validated as a whole ({@link CloudWatchSettings#of}) and its SDK client built
 * ({@link CloudWatchBackend#target}) before it takes effect. Invalid at activation: logged,
 * counted, and {@link ConfigCheck.Rejected} thrown, so nothing is registered until the file is
 * corrected. Invalid on modification: logged, counted, and the configuration in force stays. A
 * valid modification applies from the next batch (a new SDK client); a new instance name
 * registers the backend anew. Configuration values (credentials) are never published or logged.
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

    private final BackendLifecycle<CloudWatchBackend.Target, CloudWatchBackend> lifecycle;

    @Activate
    public CloudWatchBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        lifecycle = new BackendLifecycle<>(context, FACTORY_PID, KIND, LOG, CloudWatchBackend::new,
                CloudWatchBackend.Target::describe);
        lifecycle.activate(properties, config.name(),
                () -> CloudWatchBackend.target(CloudWatchSettings.of(config, properties)));
    }

    @Modified
    void modified(Config config, Map<String, Object> properties) {
        lifecycle.modify(properties, config.name(),
                () -> CloudWatchBackend.target(CloudWatchSettings.of(config, properties)));
    }

    @Deactivate
    void deactivate() {
        lifecycle.deactivate();
    }
}
