package io.signalbox.backend.cloudwatch.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.signalbox.api.BackendComponent;

/**
 * One CloudWatch Logs backend per factory configuration
 * {@code etc/io.signalbox.backend.cloudwatch-<name>.cfg}, run by a {@link io.signalbox.api.BackendLifecycle}: the
 * configuration is validated as a whole ({@link CloudWatchSettings#of}) and its SDK client built
 * ({@link CloudWatchBackend#target}) before it takes effect. Invalid at activation: logged,
 * counted, and {@link io.signalbox.api.ConfigCheck.Rejected} thrown, so nothing is registered until the file is
 * corrected. Invalid on modification: logged, counted, and the configuration in force stays. A
 * valid modification applies from the next batch (a new SDK client); a new instance name
 * registers the backend anew. Configuration values (credentials) are never published or logged.
 */
@Component(name = CloudWatchConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = CloudWatchConfig.class, factory = true)
public final class CloudWatchBackendComponent
        extends BackendComponent<CloudWatchConfig, CloudWatchBackend.Target, CloudWatchBackend> {
    public CloudWatchBackendComponent() {
        super(CloudWatchConfig.PID, "cloudwatch", CloudWatchConfig.class, (c, p) -> CloudWatchBackend.target(CloudWatchSettings.of(c, p)),
                CloudWatchBackend::new, CloudWatchBackend.Target::describe);
    }
}
