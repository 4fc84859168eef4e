package io.signalbox.http.internal;

import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.cm.ConfigurationEvent;
import org.osgi.service.cm.ConfigurationListener;
import org.osgi.service.component.annotations.Component;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/**
 * Configuration changes and rejections, for /metrics: every Config Admin update or deletion of a
 * Signalbox configuration (PID or factory PID {@code io.signalbox.*}, whether it came from
 * {@code etc/*.cfg}, YAML or anything else) is a reload; every configuration a component rejected
 * ({@link ConfigCheck#rejectionCount()}) is an error. Counts start when this bundle starts, after
 * the configurations present at startup were read.
 */
@Component(name = ConfigStats.NAME, service = { ConfigurationListener.class, StatsSource.class })
public final class ConfigStats implements ConfigurationListener, StatsSource {
    /** Component name (stable; no configuration). */
    public static final String NAME = "io.signalbox.http.config.stats";
    static final String RELOADS = "signalbox_config_reloads_total";
    static final String ERRORS = "signalbox_config_errors_total";
    static final String LAST_ERROR = "signalbox_config_last_error_timestamp_seconds";
    private static final String OURS = "io.signalbox.";

    private final LongAdder reloads = new LongAdder();

    @Override
    public void configurationEvent(ConfigurationEvent event) {
        int type = event.getType();
        if (type != ConfigurationEvent.CM_UPDATED && type != ConfigurationEvent.CM_DELETED) {
            return;
        }
        String factoryPid = event.getFactoryPid();
        if (event.getPid().startsWith(OURS) || factoryPid != null && factoryPid.startsWith(OURS)) {
            reloads.increment();
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        sink.counter(RELOADS, reloads.sum());
        sink.counter(ERRORS, ConfigCheck.rejectionCount());
        sink.gauge(LAST_ERROR, ConfigCheck.lastRejection().map(r -> r.epochMillis() / 1000.0).orElse(0.0));
    }
}
