package io.signalbox.transport.kafka.internal;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.Ingest;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.RejectCounters;

/**
 * One Kafka consumer per factory configuration {@code etc/io.signalbox.transport.kafka-<name>.cfg}.
 * The configuration is checked as a whole first ({@link KafkaSourceSettings#of}); a rejected one is
 * logged and counted and nothing starts. A changed file restarts the consumer (DS reactivates the
 * component): what it had read and delivered is committed before it leaves the group.
 */
@Component(name = KafkaSourceConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = StatsSource.class,
        immediate = true)
@Designate(ocd = KafkaSourceConfig.class, factory = true)
public final class KafkaSourceComponent implements StatsSource {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSourceComponent.class);

    private final KafkaSource source;

    @Activate
    public KafkaSourceComponent(KafkaSourceConfig config, Map<String, Object> properties, @Reference Ingest ingest) {
        KafkaSourceSettings s = ConfigCheck.activate(LOG, KafkaSourceConfig.PID, properties,
                () -> KafkaSourceSettings.of(config, properties));
        String derived = BackendNames.of(properties);
        String name = derived == null || derived.isBlank() ? "kafka" : derived.trim();
        this.source = new KafkaSource(name, s, ingest, new LineDecoder(), new RejectCounters());
        source.start();
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        source.stop();
    }

    @Override
    public void collect(MetricsSink sink) {
        source.collect(sink);
    }
}
