package io.signalbox.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A component's metrics, for {@code /metrics}, {@code /health}, {@code /api/…} and the shutdown
 * summary. Register it as a service; the HTTP bundle calls {@link #collect} on each scrape.
 */
@ConsumerType
public interface StatsSource {
    /**
     * Reports the current values into {@code sink}: a consistent-enough snapshot, cheap (reads of
     * counters, no I/O), safe to call from any thread.
     */
    void collect(MetricsSink sink);
}
