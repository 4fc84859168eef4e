/**
 * Wire protocol v1 of Signalbox (DESIGN.md §2): one UTF-8 JSON object per line.
 *
 * <p>{@link io.signalbox.protocol.LineDecoder} turns one framed line into an
 * {@link io.signalbox.api.Message} or a rejection ({@link io.signalbox.protocol.DecodeResult});
 * {@link io.signalbox.protocol.RejectCounters} counts and logs (rate-limited) the rejected lines
 * the same way in every transport, and reports the counts as typed metrics. Framing (finding the
 * newlines, enforcing the maximum line length) is the transport's job; this package has no
 * transport dependency.
 */
@org.osgi.annotation.versioning.Version("2.0.0")
@org.osgi.annotation.bundle.Export
package io.signalbox.protocol;
