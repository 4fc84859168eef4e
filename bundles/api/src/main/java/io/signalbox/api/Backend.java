package io.signalbox.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Writes batches to one target: a file tree, a database, a bucket, a log service.
 *
 * <p>Backends are DS factory components registered as this service. Routes refer to a
 * backend by its instance name: the {@value #NAME} service property if set, else the
 * {@code -<name>} part of its configuration file (see {@link BackendNames}).
 *
 * <p>The routing bundle wraps each backend in a channel (queue, retry, metrics) and calls
 * {@link #write} from one thread at a time; a backend only knows how to write one batch. A backend
 * whose target acknowledges asynchronously may implement {@link AsyncBackend} to have several
 * batches outstanding.
 */
@ConsumerType
public interface Backend {
    /** Optional service property: the instance name routes refer to. */
    String NAME = "signalbox.backend.name";

    /** Service property that states the kind of backend, e.g. {@code file}. */
    String KIND = "signalbox.backend.kind";

    /**
     * Writes the batch. Returning normally means the target has accepted every message of
     * it (as durably as the backend's configuration promises); throwing means none or only
     * some were, and the channel will retry the whole batch (with back-off, behind a circuit
     * breaker). Throwing {@link BatchRejectedException} means the target refused the batch as
     * invalid: it is not retried but written to the backend's dead-letter file.
     */
    void write(Batch batch) throws Exception;
}
