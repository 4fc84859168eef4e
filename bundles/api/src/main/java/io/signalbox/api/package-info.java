/**
 * The Signalbox API: the message model and the services bundles talk through.
 *
 * <p>Data flows {@link io.signalbox.api.Ingest} (transports) → correlation →
 * {@link io.signalbox.api.Router} → {@link io.signalbox.api.Backend}s.
 */
@org.osgi.annotation.versioning.Version("2.3.0")
@org.osgi.annotation.bundle.Export
package io.signalbox.api;
