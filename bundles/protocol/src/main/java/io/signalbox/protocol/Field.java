package io.signalbox.protocol;

import io.signalbox.api.DropReason;

/**
 * The fields the decoder looks at, with their prebuilt rejections (so a rejection allocates
 * nothing). Envelope fields of the short and the long form share a {@link #bit} so that a line
 * naming one field twice (e.g. {@code src} and {@code source}) is caught.
 */
enum Field {
    V(0, "v", "an integer"),
    SRC(1, "src", "a non-empty string"),
    SOURCE(1, "source", "a non-empty string"),
    TS(2, "ts", "a non-negative integer (epoch ms)"),
    TIMESTAMP(2, "timestamp", "an ISO-8601 date-time with offset or epoch ms"),
    TYPE(3, "type", "a string"),
    DATA(4, "data", "an object"),
    TID(5, "tid", "a string or an integer"),
    TRACE_ID(5, "trace_id", "a string or an integer"),
    SID(6, "sid", "a string or an integer"),
    SPAN_ID(6, "span_id", "a string or an integer"),
    PID(7, "pid", "a string or an integer"),
    PARENT_SPAN_ID(7, "parent_span_id", "a string or an integer"),
    CTX(8, "ctx", "an object"),
    LEVEL(-1, "data.level", "a string"),
    MSG(-1, "data.msg", "a string"),
    NAME(-1, "data.name", "a string"),
    VALUE(-1, "data.value", "a number"),
    START(-1, "data.start", "a number (epoch ms)"),
    END(-1, "data.end", "a number (epoch ms)"),
    DUR_MS(-1, "data.dur_ms", "a number"),
    STATUS(-1, "data.status", "a string");

    /** Bit in the decoder's seen-mask, shared by short and long names; -1 for payload fields. */
    final int bit;
    final String key;
    final DecodeResult missing;
    final DecodeResult badType;
    final DecodeResult duplicate;

    Field(int index, String key, String expected) {
        this.bit = index < 0 ? 0 : 1 << index;
        this.key = key;
        this.missing = DecodeResult.rejected(DropReason.MISSING_FIELD, "missing field '" + key + "'");
        this.badType = DecodeResult.rejected(DropReason.BAD_TYPE, "field '" + key + "' must be " + expected);
        this.duplicate = DecodeResult.rejected(DropReason.MALFORMED, "duplicate field '" + key + "'");
    }
}
