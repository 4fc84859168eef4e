package io.signalbox.backend.s3.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.signalbox.api.BackendComponent;

/**
 * One S3 backend per factory configuration {@code etc/io.signalbox.backend.s3-<name>.cfg}, run by
 * a {@link io.signalbox.api.BackendLifecycle}: the configuration is validated as a whole ({@link S3Settings#of})
 * before it takes effect. Invalid at activation: logged, counted, and {@link io.signalbox.api.ConfigCheck.Rejected}
 * thrown, so nothing is registered until the file is corrected. Invalid on modification: logged,
 * counted, and the configuration in force stays. A valid modification is applied by the backend
 * ({@link S3Backend#update}: its pending objects are uploaded with the old settings, then it goes
 * on with the new ones); a new instance name registers the backend anew. Configuration values
 * (credentials) are never published as service properties.
 */
@Component(name = S3Config.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = S3Config.class, factory = true)
public final class S3BackendComponent extends BackendComponent<S3Config, S3Settings, S3Backend> {
    public S3BackendComponent() {
        super(S3Config.PID, "s3", S3Config.class, S3Settings::of, S3Backend::new, S3Settings::toString);
    }
}
