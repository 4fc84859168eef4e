package io.signalbox.protocol;

import static io.signalbox.protocol.Swar.LONGS;

import java.nio.charset.StandardCharsets;

/**
 * What the values {@link JsonCursor} scanned mean, read only when a field is kept: the text of a
 * string as Jackson's {@code getText()} gives it (and with its string limit), an escaped name
 * unescaped (with Jackson's name checks), the number kinds Jackson tells apart (a long or a
 * {@code BIG_INTEGER}; a float as {@link Double#parseDouble} reads it), and short names as one
 * {@code long} to compare known names against.
 */
abstract class JsonValues extends JsonCursor {
    /** Powers of ten that are exact doubles (up to 1e15 are needed: at most 15 digits take the fast path). */
    private static final double[] POW10 = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    };

    JsonValues(ScanLimits limits) {
        super(limits);
    }

    /** The char of the (checked) {@code \\uXXXX} escape whose backslash is at {@code p}. */
    private char unicodeEscape(int p) {
        return (char) (hex(b[p + 2]) << 12 | hex(b[p + 3]) << 8 | hex(b[p + 4]) << 4 | hex(b[p + 5]));
    }

    /**
     * The last name's (or string's) bytes as a little-endian long if it has 1 to 8 bytes and no
     * escape, else 0: known names are matched with one comparison each ({@link WireNames}).
     */
    final long nameWord() {
        return strEscaped ? 0 : word(strFrom, strTo);
    }

    /** The bytes {@code b[from, to)} as a little-endian long if there are 1 to 8 of them, else 0. */
    private long word(int from, int to) {
        int len = to - from;
        if (len > 8 || len == 0) {
            return 0;
        }
        if (from + 8 <= end) {
            long w = (long) LONGS.get(b, from);
            return len == 8 ? w : w & ((1L << (len << 3)) - 1);
        }
        long w = 0;
        for (int i = to - 1; i >= from; i--) {
            w = w << 8 | (b[i] & 0xff);
        }
        return w;
    }

    /** The last name scanned, unescaped; checks its length in UTF-8 bytes and its surrogate escapes. */
    @Override
    final String escapedName() {
        StringBuilder out = new StringBuilder(strTo - strFrom);
        int utf8Length = 0;
        int p = strFrom;
        while (p < strTo) {
            byte c = b[p];
            if (c == '\\') {
                char ch = unescapeOne(p);
                p += b[p + 1] == 'u' ? 6 : 2;
                if (Character.isLowSurrogate(ch)) {
                    throw fail(p - 6, "unpaired low surrogate in field name");
                }
                if (Character.isHighSurrogate(ch)) {
                    char low = p < strTo && b[p] == '\\' ? unescapeOne(p) : 0;
                    if (!Character.isLowSurrogate(low)) {
                        throw fail(p, "unpaired high surrogate in field name");
                    }
                    p += b[p + 1] == 'u' ? 6 : 2;
                    out.append(ch).append(low);
                    utf8Length += 4;
                } else {
                    out.append(ch);
                    utf8Length += ch < 0x80 ? 1 : ch < 0x800 ? 2 : 3;
                }
            } else if (c >= 0) {
                out.append((char) c);
                utf8Length++;
                p++;
            } else {
                int n = Utf8.sequenceLength(b, p, strTo, c & 0xff);
                out.append(new String(b, p, n, StandardCharsets.UTF_8));
                utf8Length += n;
                p += n;
            }
        }
        if (utf8Length > limits.name()) {
            throw fail(strFrom, "field name longer than " + limits.name() + " bytes");
        }
        return out.toString();
    }

    /** The char of the (checked) escape whose backslash is at {@code p}. */
    private char unescapeOne(int p) {
        byte e = b[p + 1];
        switch (e) {
            case 'u':
                return unicodeEscape(p);
            case 'b':
                return '\b';
            case 'f':
                return '\f';
            case 'n':
                return '\n';
            case 'r':
                return '\r';
            case 't':
                return '\t';
            default:
                return (char) e; // '"', '\\' and '/'
        }
    }

    /**
     * The last string scanned, as Jackson's {@code getText()} gives it; like Jackson, a string
     * longer than {@code limits.string()} chars is rejected when its text is read (only then).
     */
    final String text() {
        String s = textUnlimited();
        if (s.length() > limits.string()) {
            throw stringTooLong();
        }
        return s;
    }

    private RuntimeException stringTooLong() {
        return fail(strFrom, "string longer than " + limits.string() + " characters");
    }

    /** The last string scanned, unescaped, whatever its length. */
    final String textUnlimited() {
        return text(strFrom, strTo, strEscaped, strAscii);
    }

    /*
     * Kept texts. A connection's scanner lives long (in the old generation), and every store of a
     * reference into it costs a GC write barrier (with G1, a fence when it points across regions):
     * so the strings a message keeps are noted as their bounds in a long (kept(...)) while the line
     * is scanned, and made Strings only when the message is (keptText). 0 means none. Layout: start
     * << 33 | end << 2 | escaped << 1 | not ASCII (positions are below 2^31).
     */

    /** The last string, to be read as {@link #text()} later: its limit is checked now, where Jackson checks it. */
    final long keptString() {
        if (strEscaped || !strAscii) {
            text(); // the limit is on the unescaped text; made again by keptText (rare: escapes, non-ASCII)
        } else if (strTo - strFrom > limits.string()) {
            throw stringTooLong();
        }
        return keptConstant();
    }

    /** The last string's bounds, its limit not checked (for a text that will be a shared constant). */
    final long keptConstant() {
        return (long) strFrom << 33 | (long) strTo << 2 | (strEscaped ? 2 : 0) | (strAscii ? 0 : 1);
    }

    /** The last number's text, to be read as {@link #numText()} later (its limit checked now). */
    final long keptNumberText() {
        if (numTo - numFrom > limits.string()) {
            throw numberTextTooLong();
        }
        return (long) numFrom << 33 | (long) numTo << 2; // ASCII, no escapes
    }

    /** The text noted by {@link #keptString} or {@link #keptNumberText}; {@code null} for 0. */
    final String keptText(long kept) {
        return kept == 0 ? null : text(keptFrom(kept), keptTo(kept), (kept & 2) != 0, (kept & 1) == 0);
    }

    /** {@link #nameWord()} of a kept text. */
    final long keptWord(long kept) {
        return (kept & 2) != 0 ? 0 : word(keptFrom(kept), keptTo(kept));
    }

    static int keptFrom(long kept) {
        return (int) (kept >>> 33);
    }

    static int keptTo(long kept) {
        return (int) (kept >>> 2) & Integer.MAX_VALUE;
    }

    /** The text of the string {@code b[from, to)} (without quotes), unescaped, whatever its length. */
    @SuppressWarnings("deprecation") // String(byte[], int, int, int): a copy, without the charset dispatch
    private String text(int from, int to, boolean escaped, boolean ascii) {
        if (!escaped) {
            return ascii ? new String(b, 0, from, to - from)
                    : new String(b, from, to - from, StandardCharsets.UTF_8);
        }
        return unescape(from, to);
    }

    private String unescape(int from, int to) {
        char[] out = new char[to - from];
        int n = 0;
        int p = from;
        while (p < to) {
            byte c = b[p];
            if (c == '\\') {
                out[n++] = unescapeOne(p);
                p += b[p + 1] == 'u' ? 6 : 2;
            } else if (c >= 0) {
                out[n++] = (char) c;
                p++;
            } else {
                int len = Utf8.sequenceLength(b, p, to, c & 0xff);
                String s = new String(b, p, len, StandardCharsets.UTF_8);
                for (int i = 0; i < s.length(); i++) {
                    out[n++] = s.charAt(i);
                }
                p += len;
            }
        }
        return new String(out, 0, n);
    }

    /** Whether the last number, an integer, fits in a long (Jackson: not a {@code BIG_INTEGER}). */
    final boolean numFitsLong() {
        if (numIntLen < 19) {
            return true;
        }
        if (numIntLen > 19) {
            return false;
        }
        String limit = numNegative ? "9223372036854775808" : "9223372036854775807";
        int from = numTo - 19;
        for (int i = 0; i < 19; i++) {
            int d = b[from + i] - limit.charAt(i);
            if (d != 0) {
                return d < 0;
            }
        }
        return true;
    }

    private RuntimeException numberTextTooLong() {
        return fail(numFrom, "number text longer than " + limits.string() + " characters");
    }

    /**
     * Whether the last number, an integer, fits in a long, as Jackson's {@code getNumberType()}
     * tells: an integer that does not is read from its text ({@code _parseSlowInt}), and so, as in
     * Jackson, one whose text is longer than {@code limits.string()} chars makes the line malformed.
     */
    final boolean numberType() {
        if (numFitsLong()) {
            return true;
        }
        if (numTo - numFrom > limits.string()) {
            throw numberTextTooLong();
        }
        return false;
    }

    /** The last number, an integer that {@linkplain #numFitsLong fits}, as a long. */
    final long numLong() {
        if (numIntLen < 19) {
            return numNegative ? -numMagnitude : numMagnitude;
        }
        long v = 0;
        for (int i = numTo - numIntLen; i < numTo; i++) {
            v = v * 10 - (b[i] - '0'); // negative accumulation reaches Long.MIN_VALUE
        }
        return numNegative ? v : -v;
    }

    /** The last number (integer or float) as a double, correctly rounded like {@link Double#parseDouble}. */
    final double numDouble() {
        // fast path (Clinger): at most 15 digits and no exponent: one division of two exact doubles
        long m = 0;
        int count = 0;
        int decimals = 0;
        boolean point = false;
        int q = numNegative ? numFrom + 1 : numFrom;
        for (; q < numTo && count <= 15; q++) {
            byte c = b[q];
            if (c == '.') {
                point = true;
            } else if (isDigit(c)) {
                m = m * 10 + (c - '0');
                count++;
                decimals += point ? 1 : 0;
            } else {
                break; // an exponent
            }
        }
        if (q == numTo && count <= 15) {
            double d = m / POW10[decimals];
            return numNegative ? -d : d;
        }
        return Double.parseDouble(new String(b, numFrom, numTo - numFrom, StandardCharsets.ISO_8859_1));
    }

    /** The last number's text as written, as Jackson's {@code getText()} (an integer id keeps its decimal text). */
    final String numText() {
        if (numTo - numFrom > limits.string()) { // Jackson's getText() applies the string limit to numbers too
            throw numberTextTooLong();
        }
        @SuppressWarnings("deprecation") // as in textUnlimited()
        String text = new String(b, 0, numFrom, numTo - numFrom);
        return text;
    }
}
