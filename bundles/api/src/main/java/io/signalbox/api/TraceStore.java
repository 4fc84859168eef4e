package io.signalbox.api;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** Recent traces, assembled from the messages that carry a trace id. */
@ProviderType
public interface TraceStore {
    /** The trace with its span tree, if it is still held. */
    Optional<Trace> trace(String traceId);

    /** Summaries of the most recently updated traces, newest first. */
    List<TraceSummary> recent(int limit);

    /** Number of traces held. */
    int size();
}
