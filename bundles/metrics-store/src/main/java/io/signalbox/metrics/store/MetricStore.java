package io.signalbox.metrics.store;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

import io.signalbox.api.Message;
import io.signalbox.metrics.promql.Storage;

/**
 * The metrics store, read side: a {@link Storage} of the samples it has committed (a sample routed to
 * it is committed within the correlation flush plus the store's {@code flush.interval.ms}), and how a
 * metric message becomes one of its samples, so a reader can hold samples that have not arrived in the
 * store yet under the very labels the store will give them.
 *
 * <p>Registered by the store whether it is enabled or not; when it is disabled, {@link #enabled()} is
 * {@code false} and the {@link Storage} methods throw {@link io.signalbox.metrics.promql.PromQLException}.
 */
@ProviderType
public interface MetricStore extends Storage {
    /** One sample with the labels it has in the store ({@code __name__}, {@code source}, the tags). */
    record LabeledSample(Map<String, String> labels, long timestamp, double value) {
    }

    /** Whether the store is enabled ({@code enabled=true} in its configuration). */
    boolean enabled();

    /** PromQL lookback delta (ms): how far back an instant selector looks for the latest sample. */
    long lookbackDeltaMs();

    /**
     * The sample the store makes of {@code message}, or {@code null} if it would not keep one: not a
     * metric, a payload without a name or numeric value, or excluded by the {@code sources}/{@code names}
     * globs.
     */
    LabeledSample sampleOf(Message message);
}
