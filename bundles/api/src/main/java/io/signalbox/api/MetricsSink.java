package io.signalbox.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Receives a component's metrics, typed, with label names and values as data: the HTTP bundle
 * turns them into Prometheus snapshots for {@code /metrics}, {@link MetricSamples} keeps them for
 * {@code /health}, {@code /api/…} and tests. No bundle formats exposition text.
 *
 * <p>{@code labels} are name/value pairs: {@code sink.counter("signalbox_backend_messages_total",
 * n, "backend", "db")}. Names follow Prometheus' classic rules; values are any text (the exposition
 * writer escapes them). Counter names end in {@code _total}, as they appear on {@code /metrics}.
 * The same series reported twice (by two components, e.g. drops by reason from TCP and HTTP
 * ingest) is added up.
 */
@ProviderType
public interface MetricsSink {
    /** A monotonic count; {@code name} ends in {@code _total}. */
    void counter(String name, double value, String... labels);

    /** A value that goes up and down (sizes, states, timestamps). */
    void gauge(String name, double value, String... labels);

    /** A histogram with fixed buckets, e.g. {@link LatencyHistogram#collect}. */
    void histogram(String name, HistogramSample value, String... labels);
}
