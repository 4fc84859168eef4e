package io.signalbox.protocol;

import io.signalbox.api.DropReason;

/**
 * What the scanner ({@link ShortFormScan}) and the Jackson decoder ({@link JacksonLineDecoder})
 * share about a line: its bounds without the surrounding blanks, and the rejections that are not
 * about one field (those are {@link Field}'s).
 */
final class Lines {
    static final DecodeResult NOT_AN_OBJECT = DecodeResult.rejected(DropReason.MALFORMED, "not a JSON object");
    static final DecodeResult TRAILING =
            DecodeResult.rejected(DropReason.MALFORMED, "trailing content after the JSON object");
    static final DecodeResult UNSUPPORTED =
            DecodeResult.rejected(DropReason.UNSUPPORTED_VERSION, "unsupported protocol version (supported: 1)");
    static final DecodeResult SPAN_END_MISSING =
            DecodeResult.rejected(DropReason.MISSING_FIELD, "missing field 'data.end' or 'data.dur_ms'");

    private Lines() {
    }

    /** The first byte of {@code buf[from, to)} that is not blank (space, tab, CR, LF), or {@code to}. */
    static int trimStart(byte[] buf, int from, int to) {
        int i = from;
        while (i < to && isBlank(buf[i])) {
            i++;
        }
        return i;
    }

    /** The end of {@code buf[from, to)} without its trailing blanks (a {@code "\r\n"}'s CR among them). */
    static int trimEnd(byte[] buf, int from, int to) {
        int i = to;
        while (i > from && isBlank(buf[i - 1])) {
            i--;
        }
        return i;
    }

    /** For trimmed bounds: {@link DecodeResult#empty()} for a blank line, {@link #NOT_AN_OBJECT}, or {@code null} to go on. */
    static DecodeResult blankOrNotAnObject(byte[] buf, int start, int end) {
        if (start == end) {
            return DecodeResult.empty();
        }
        return buf[start] != '{' ? NOT_AN_OBJECT : null;
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }
}
