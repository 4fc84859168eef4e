package io.signalbox.api;

import java.util.Locale;

/** Why a line or message was not accepted; the {@code reason} label of the drop counter. */
public enum DropReason {
    /** Not a JSON object, or not valid UTF-8 JSON. */
    MALFORMED,
    /** Longer than the configured maximum line length. */
    TOO_LONG,
    /** A required field ({@code v}, {@code src}, {@code ts}, {@code type}, {@code data}) is missing. */
    MISSING_FIELD,
    /** A field has the wrong JSON type or an impossible value. */
    BAD_TYPE,
    /** {@code type} is not a protocol v1 message type. */
    UNKNOWN_TYPE,
    /** {@code v} is not a version this sidecar speaks. */
    UNSUPPORTED_VERSION;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The label value, e.g. {@code too_long}. */
    public String label() {
        return label;
    }
}
