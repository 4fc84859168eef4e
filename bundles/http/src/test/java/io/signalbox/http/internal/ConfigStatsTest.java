package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.cm.ConfigurationEvent;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.MetricSamples;

class ConfigStatsTest {
    @SuppressWarnings("unchecked")
    private static final ServiceReference<ConfigurationAdmin> REF = (ServiceReference<ConfigurationAdmin>) Proxy
            .newProxyInstance(ConfigStatsTest.class.getClassLoader(), new Class<?>[] { ServiceReference.class },
                    (p, m, a) -> null);

    @Test
    void updatesAndDeletionsOfSignalboxConfigurationsAreReloads() {
        ConfigStats stats = new ConfigStats();
        stats.configurationEvent(new ConfigurationEvent(REF, ConfigurationEvent.CM_UPDATED, null, "io.signalbox.transport.tcp"));
        stats.configurationEvent(new ConfigurationEvent(REF, ConfigurationEvent.CM_UPDATED,
                "io.signalbox.route", "io.signalbox.route~billing"));
        stats.configurationEvent(new ConfigurationEvent(REF, ConfigurationEvent.CM_DELETED,
                "io.signalbox.backend.file", "io.signalbox.backend.file~audit"));
        // not reloads: someone else's PID (including what HttpServerComponent writes), location changes
        stats.configurationEvent(new ConfigurationEvent(REF, ConfigurationEvent.CM_UPDATED, null, "org.apache.felix.http"));
        stats.configurationEvent(new ConfigurationEvent(REF, ConfigurationEvent.CM_LOCATION_CHANGED, null,
                "io.signalbox.transport.tcp"));
        assertThat(MetricSamples.of(stats).value(ConfigStats.RELOADS)).isEqualTo(3);
    }

    @Test
    void errorsAreTheRejectionsOfEveryComponent() {
        ConfigStats stats = new ConfigStats();
        long before = ConfigCheck.rejectionCount();
        ConfigCheck.rejection("io.signalbox.test", Map.of(), "for the test");
        MetricSamples m = MetricSamples.of(stats);
        assertThat(m.value(ConfigStats.ERRORS)).isEqualTo(before + 1);
        assertThat(m.value(ConfigStats.LAST_ERROR)).isPositive();
        assertThat(m.all(ConfigStats.ERRORS)).singleElement()
                .satisfies(s -> assertThat(s.type()).isEqualTo(MetricSamples.Type.COUNTER));
        assertThat(m.all(ConfigStats.LAST_ERROR)).singleElement()
                .satisfies(s -> assertThat(s.type()).isEqualTo(MetricSamples.Type.GAUGE));
    }
}
