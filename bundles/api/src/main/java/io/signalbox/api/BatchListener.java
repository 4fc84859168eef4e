package io.signalbox.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Sees every batch as it is routed (e.g. {@code bin/signalbox tail}). Register it as a service;
 * the router calls every registered listener on its own thread after queuing the batch.
 *
 * <p>It must be quick and never block: copy what it needs and hand it to another thread. A
 * listener that throws is logged (rate-limited) and keeps being called.
 */
@ConsumerType
public interface BatchListener {
    /** A batch was routed to {@code backends} (empty if no route took it). */
    void routed(Batch batch, java.util.List<String> backends);
}
