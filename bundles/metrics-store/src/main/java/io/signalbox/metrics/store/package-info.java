/**
 * The metrics store as a service: {@link io.signalbox.metrics.store.MetricStore}, a PromQL
 * {@link io.signalbox.metrics.promql.Storage} of the committed samples, and the labels the store gives a
 * metric message.
 */
@org.osgi.annotation.versioning.Version("1.0.0")
@org.osgi.annotation.bundle.Export
package io.signalbox.metrics.store;
