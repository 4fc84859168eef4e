package io.signalbox.correlation.internal;

import java.util.Locale;

/** Why a source's buffer was turned into a batch; the {@code reason} label of the flush counter. */
enum FlushReason {
    /** The buffer reached {@code batch.size}. */
    SIZE,
    /** The oldest buffered message waited {@code flush.interval.ms}. */
    AGE,
    /** An {@code error} or {@code fatal} event arrived, or a message offered with {@code offerAndFlush}. */
    CRITICAL,
    /** The component is stopping (or reconfiguring its lifecycle). */
    SHUTDOWN;

    private final String label = name().toLowerCase(Locale.ROOT);

    String label() {
        return label;
    }
}
