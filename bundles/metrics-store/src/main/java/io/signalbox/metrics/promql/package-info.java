/**
 * The PromQL subset of the metrics store: {@link io.signalbox.metrics.promql.Parser} (text →
 * {@link io.signalbox.metrics.promql.Expr}) and {@link io.signalbox.metrics.promql.Engine} (Prometheus'
 * semantics) over any {@link io.signalbox.metrics.promql.Storage}. Exported for alerting, which evaluates
 * rules with the same engine over the store plus the samples that have not reached it yet.
 */
@org.osgi.annotation.versioning.Version("1.0.0")
@org.osgi.annotation.bundle.Export
package io.signalbox.metrics.promql;
