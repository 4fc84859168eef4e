/**
 * Wire protocol v1 of Signalbox (DESIGN.md §2): one UTF-8 JSON object per line.
 *
 * <p>{@link io.signalbox.protocol.LineDecoder} turns one framed line into an
 * {@link io.signalbox.api.Message} or a rejection ({@link io.signalbox.protocol.DecodeResult});
 * {@link io.signalbox.protocol.RejectCounters} counts and logs (rate-limited) the rejected lines
 * the same way in every transport, and reports the counts as typed metrics.
 *
 * <p>What every stream transport (TCP, Unix domain sockets) does with a connection's bytes lives
 * here once, without any transport dependency: {@link io.signalbox.protocol.LineFramer} finds the
 * newlines and enforces the maximum line length; {@link io.signalbox.protocol.LineIngest} /
 * {@link io.signalbox.protocol.LineSession} authenticate the connection with its {@code hello}
 * line ({@link io.signalbox.protocol.SharedSecrets}), decode and offer the messages.
 */
@org.osgi.annotation.versioning.Version("2.2.0")
@org.osgi.annotation.bundle.Export
package io.signalbox.protocol;
