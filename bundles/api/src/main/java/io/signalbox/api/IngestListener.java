package io.signalbox.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Sees every message the moment {@link Ingest} accepts it, before it waits in its source's batch
 * (e.g. alerting, which must react to a sample within a second or two, while batches are cut by
 * size or after {@code flush.interval.ms}, 5 s by default). Register it as a service.
 *
 * <p>Called on the offering thread (a transport's I/O thread): it must be quick and never block —
 * look at the message, copy what it needs and hand it to another thread. A listener that throws is
 * logged (rate-limited) and keeps being called; the message is accepted either way.
 */
@ConsumerType
public interface IngestListener {
    /** {@code message} was accepted. */
    void offered(Message message);
}
