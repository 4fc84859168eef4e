/**
 * Routing, not exported. {@link io.signalbox.routing.internal.RoutingEngine} (the DS component,
 * with one {@link io.signalbox.routing.internal.RoutingSettings} in force) glues the
 * {@link io.signalbox.routing.internal.Dispatcher} (route configurations from
 * {@link io.signalbox.routing.internal.RouteComponent} in a {@link io.signalbox.routing.internal.RoutingTable},
 * applied to every batch) to the {@link io.signalbox.routing.internal.ChannelRegistry} (one channel
 * per backend name, and the backends bound to it).
 *
 * <p>A {@link io.signalbox.routing.internal.Channel} is made of parts: a bounded queue in memory and
 * the state under its one lock ({@link io.signalbox.routing.internal.ChannelState}), a writer job
 * with retry back-off, a circuit breaker, a replay throttle and a dead-letter file, a spooler job
 * and a disk {@link io.signalbox.routing.internal.Spool} (segments, record codec, cursor, recovery)
 * for what its backend cannot take now, and its statistics. The jobs are
 * {@link io.signalbox.routing.internal.SerialTask}s on the registry's one
 * {@link io.signalbox.routing.internal.ChannelExecutor}: channels own no threads.
 */
package io.signalbox.routing.internal;
