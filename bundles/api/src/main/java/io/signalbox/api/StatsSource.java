package io.signalbox.api;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A component's counters and gauges, for /metrics, /health and the shutdown summary.
 *
 * <p>Keys are Prometheus series names with labels, e.g.
 * {@code signalbox_messages_dropped_total{reason="malformed"}}.
 */
@ConsumerType
public interface StatsSource {
    /** A consistent-enough snapshot of the current values; never {@code null}. */
    Map<String, Number> stats();
}
