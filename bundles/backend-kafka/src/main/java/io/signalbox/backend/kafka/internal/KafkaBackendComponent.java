package io.signalbox.backend.kafka.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.signalbox.api.BackendComponent;

/**
 * One Kafka backend per factory configuration {@code etc/io.signalbox.backend.kafka-<name>.cfg}, run
 * by a {@link io.signalbox.api.BackendLifecycle}: the configuration is validated as a whole
 * ({@link KafkaSettings#of}) before it takes effect. Invalid at activation: logged, counted, nothing
 * registered until the file is corrected. Invalid on modification: logged, counted, the configuration
 * in force stays. A valid modification applies from the next batch on (a new producer).
 * Configuration values are never published as service properties.
 */
@Component(name = KafkaConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = KafkaConfig.class, factory = true)
public final class KafkaBackendComponent extends BackendComponent<KafkaConfig, KafkaSettings, KafkaBackend> {
    public KafkaBackendComponent() {
        super(KafkaConfig.PID, "kafka", KafkaConfig.class, KafkaSettings::of, KafkaBackend::new, KafkaSettings::describe);
    }
}
