package io.signalbox.http.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.framework.Constants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.MetricSamples;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;

/**
 * The {@link StatsSource} services an endpoint reads, as DS injects them into
 * {@link SidecarServices#statsSources} (service properties and service).
 */
final class StatsSources {
    private static final Logger LOG = LoggerFactory.getLogger(StatsSources.class);
    private static final RateLimitedLog FAILURES = new RateLimitedLog(LOG);

    private StatsSources() {
    }

    /**
     * What one source reported now.
     *
     * @param properties its service properties
     * @param samples    its series; empty if its {@code collect} failed
     */
    record Read(Map<String, ?> properties, MetricSamples samples) {
        /** Whether the source is the component named {@code name}. */
        boolean isComponent(String name) {
            return name.equals(properties.get("component.name"));
        }
    }

    /**
     * Every source's series ({@link MetricSamples#of}); a source that fails must not take the
     * endpoint down with it: it counts as reporting nothing, and is logged rate-limited.
     *
     * @param endpoint who reads, for the log
     */
    static List<Read> read(List<Map.Entry<Map<String, ?>, StatsSource>> sources, String endpoint) {
        List<Read> out = new ArrayList<>(sources.size());
        for (Map.Entry<Map<String, ?>, StatsSource> e : sources) {
            MetricSamples samples;
            try {
                samples = MetricSamples.of(e.getValue());
            } catch (RuntimeException ex) {
                FAILURES.warn(endpoint, "A StatsSource failed while {} read it: {}", endpoint, ex.toString(), ex);
                samples = new MetricSamples();
            }
            out.add(new Read(e.getKey(), samples));
        }
        return out;
    }

    /**
     * The sources by component name (else {@code service <id>}), for logs and HELP texts; two with
     * one name (factory components) get their service order appended.
     */
    static Map<String, StatsSource> byName(List<Map.Entry<Map<String, ?>, StatsSource>> sources) {
        Map<String, StatsSource> byName = new TreeMap<>();
        for (Map.Entry<Map<String, ?>, StatsSource> e : sources) {
            Object component = e.getKey().get("component.name");
            String name = component != null ? component.toString() : "service " + e.getKey().get(Constants.SERVICE_ID);
            String n = name;
            for (int i = 2; byName.containsKey(n); i++) {
                n = name + "#" + i;
            }
            byName.put(n, e.getValue());
        }
        return byName;
    }
}
