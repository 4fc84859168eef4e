package io.signalbox.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The syntax half of the single-pass scanner ({@link ShortFormScan} is the other): RFC 8259 JSON
 * read straight from the caller's bytes, as strictly as Jackson's {@code UTF8StreamJsonParser}
 * with default features reads it — no comments, no single quotes, no leading zeros, {@code +} or
 * {@code NaN}, no unescaped control characters in strings or names, only space, tab, CR and LF
 * as whitespace — plus strict UTF-8 (RFC 3629, {@link Utf8}) inside strings, the only place a
 * byte above 0x7F may appear, and the factory's {@code StreamReadConstraints} as Jackson applies
 * them ({@link ScanLimits}). Positions are passed in and returned as ints; what a scan learns
 * about the last string or number is left in fields, read only when a value is kept.
 *
 * <p>A syntax error throws the shared, stackless {@link #MALFORMED} after noting where and what
 * ({@link #errorAt}, {@link #errorWhat}); {@link ShortFormScan#scan()} turns it into a
 * rejection, so no exception leaves the scanner. Scratch state of one decode, never shared.
 */
abstract class JsonCursor {
    /** Kinds of a scanned value (and {@code 0}: absent). */
    static final int STRING = 1;
    static final int INT = 2;
    static final int FLOAT = 3;
    static final int TRUE = 4;
    static final int FALSE = 5;
    static final int NULL = 6;
    static final int OBJECT = 7;
    static final int ARRAY = 8;

    /** States of {@link #skipContainer}: just opened, after a comma, after a value. */
    private static final int FIRST = 0;
    private static final int MEMBER = 1;
    private static final int AFTER = 2;

    /** Thrown (never with a stack trace) on the first syntax error; details in the cursor. */
    static final RuntimeException MALFORMED = new ScanFailure();

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;

    /** Powers of ten that are exact doubles (up to 1e15 are needed: at most 15 digits take the fast path). */
    private static final double[] POW10 = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    };

    final byte[] b;
    /** The trimmed line: {@code b[start, end)}, {@code b[start] == '{'}. */
    final int start;
    final int end;
    final ScanLimits limits;

    /** Kind of the last value scanned by {@link #value}. */
    int kind;
    /** The last string's content {@code b[strFrom, strTo)} (without quotes) and whether it had escapes or non-ASCII bytes. */
    int strFrom;
    int strTo;
    boolean strEscaped;
    boolean strAscii;
    /** The last number: {@code b[numFrom, numTo)}, its digits before the point, and its sign. */
    int numFrom;
    int numTo;
    int numIntLen;
    boolean numNegative;

    /** Object (1) or array (0) per open container of {@link #skipContainer}, beyond the first 64 levels. */
    private long[] deepKinds;

    int errorAt;
    String errorWhat;

    JsonCursor(byte[] b, int start, int end, ScanLimits limits) {
        this.b = b;
        this.start = start;
        this.end = end;
        this.limits = limits;
    }

    /** Notes a syntax error at {@code at} and returns the exception to throw. */
    final RuntimeException fail(int at, String what) {
        errorAt = at;
        errorWhat = at >= end ? "unexpected end of line" : what;
        return MALFORMED;
    }

    /** The byte at {@code p}, or 0 past the end (NUL is valid nowhere outside a string, so it fails like any wrong byte). */
    final byte at(int p) {
        return p < end ? b[p] : 0;
    }

    /** The first position at or after {@code p} that is not JSON whitespace. */
    final int ws(int p) {
        if (p < end && b[p] > ' ') {
            return p; // the common case: no whitespace
        }
        while (p < end) {
            byte c = b[p];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return p;
            }
            p++;
        }
        return p;
    }

    /** Checks {@code ':'} after a name at {@code p} (after whitespace) and returns the position of the value. */
    final int colon(int p) {
        if (p + 1 < end && b[p] == ':' && b[p + 1] > ' ') {
            return p + 1; // the common case: no whitespace
        }
        p = ws(p);
        if (at(p) != ':') {
            throw fail(p, "expected ':'");
        }
        return ws(p + 1);
    }

    /** Checks that an object or array opened at {@code p} is not deeper than the limit. */
    final void checkDepth(int p, int depth) {
        if (depth > limits.depth()) {
            throw fail(p, "nesting deeper than " + limits.depth());
        }
    }

    /**
     * Scans one value at {@code p} (whitespace already skipped) whose container is at nesting
     * depth {@code depth}; returns the position after it and leaves its {@link #kind}.
     */
    final int value(int p, int depth) {
        byte c = at(p);
        if (c == '"') {
            kind = STRING;
            return string(p + 1);
        }
        if ((c >= '0' && c <= '9') || c == '-') {
            return number(p);
        }
        return otherValue(p, c, depth);
    }

    private int otherValue(int p, byte c, int depth) {
        switch (c) {
            case '{':
                p = skipContainer(p, depth);
                kind = OBJECT; // after the scalars inside
                return p;
            case '[':
                p = skipContainer(p, depth);
                kind = ARRAY;
                return p;
            case 't':
                kind = TRUE;
                return literal(p, "true");
            case 'f':
                kind = FALSE;
                return literal(p, "false");
            case 'n':
                kind = NULL;
                return literal(p, "null");
            default:
                throw fail(p, "expected a value");
        }
    }

    private int literal(int p, String word) {
        int n = word.length();
        for (int i = 1; i < n; i++) {
            if (at(p + i) != word.charAt(i)) {
                throw fail(p + i, "expected '" + word + "'");
            }
        }
        return p + n;
    }

    /**
     * Scans a string whose content starts at {@code p} (after the opening quote); returns the
     * position after the closing quote and leaves {@link #strFrom}, {@link #strTo},
     * {@link #strEscaped} and {@link #strAscii}.
     */
    final int string(int p) {
        byte[] b = this.b;
        int end = this.end;
        int from = p;
        // the common run: printable ASCII other than '"' and '\\', eight bytes at a time
        long special = 0;
        while (p + 8 <= end && (special = special((long) LONGS.get(b, p))) == 0) {
            p += 8;
        }
        if (special != 0) {
            p += Long.numberOfTrailingZeros(special) >>> 3;
        } else {
            byte c;
            while (p < end && (c = b[p]) >= 0x20 && c != '"' && c != '\\') {
                p++;
            }
        }
        if (p < end && b[p] == '"') {
            strFrom = from;
            strTo = p;
            strEscaped = false;
            strAscii = true;
            return p + 1;
        }
        return stringRest(from, p);
    }

    /** The rest of a string from {@code p}, where its plain run ended: escapes, non-ASCII, errors. */
    private int stringRest(int from, int p) {
        byte[] b = this.b;
        int end = this.end;
        boolean escaped = false;
        boolean ascii = true;
        for (;;) {
            if (p >= end) {
                throw fail(p, "unterminated string");
            }
            byte c = b[p];
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                p = escape(p);
                escaped = true;
            } else if (c >= 0x20) {
                p++;
            } else if (c >= 0) {
                throw fail(p, "control character in string");
            } else {
                int n = Utf8.sequenceLength(b, p, end, c & 0xff);
                if (n < 0) {
                    throw invalidUtf8(p);
                }
                p += n;
                ascii = false;
            }
        }
        strFrom = from;
        strTo = p;
        strEscaped = escaped;
        strAscii = ascii;
        return p + 1;
    }

    /**
     * The high bit of each byte of {@code w} (little endian: the first byte lowest) that ends the
     * plain run of a string — {@code '"'}, {@code '\\'}, a control character or a non-ASCII byte —
     * exact at the lowest set bit (bits above it may be false alarms), {@code 0} if there is none.
     */
    private static long special(long w) {
        long quote = w ^ (ONES * '"');
        long backslash = w ^ (ONES * '\\');
        return ((quote - ONES) & ~quote | (backslash - ONES) & ~backslash | (w - ONES * 0x20) & ~w | w) & HIGH_BITS;
    }

    final RuntimeException invalidUtf8(int p) {
        errorAt = p;
        errorWhat = null; // the caller reports "invalid UTF-8 at byte …"
        return MALFORMED;
    }

    /** Checks the escape starting with the backslash at {@code p}; returns the position after it. */
    private int escape(int p) {
        switch (at(p + 1)) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
                return p + 2;
            case 'u':
                for (int i = p + 2; i < p + 6; i++) {
                    if (hex(at(i)) < 0) {
                        throw fail(i, "expected a hex digit in \\u escape");
                    }
                }
                return p + 6;
            default:
                throw fail(p + 1, "invalid escape");
        }
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** The char of the (checked) {@code \\uXXXX} escape whose backslash is at {@code p}. */
    private char unicodeEscape(int p) {
        return (char) (hex(b[p + 2]) << 12 | hex(b[p + 3]) << 8 | hex(b[p + 4]) << 4 | hex(b[p + 5]));
    }

    /**
     * Scans a field name whose content starts at {@code p}; returns the position after the
     * closing quote. Checked as Jackson checks names: at most {@code limits.name()} UTF-8 bytes
     * once unescaped, and an escaped surrogate only as a pair.
     *
     * @return the position after the closing quote; {@link #strFrom}/{@link #strTo} hold the raw name
     */
    final int name(int p) {
        p = string(p);
        if (strEscaped) {
            escapedName(); // checks the decoded name
        } else if (strTo - strFrom > limits.name()) {
            throw fail(strFrom, "field name longer than " + limits.name() + " bytes");
        }
        return p;
    }

    /**
     * The last name's bytes as a little-endian long if it has 1 to 8 bytes and no escape, else 0:
     * known names are matched with one comparison each ({@link #word}).
     */
    final long nameWord() {
        int len = strTo - strFrom;
        if (len > 8 || len == 0 || strEscaped) {
            return 0;
        }
        if (strFrom + 8 <= end) {
            long w = (long) LONGS.get(b, strFrom);
            return len == 8 ? w : w & ((1L << (len << 3)) - 1);
        }
        long w = 0;
        for (int i = strTo - 1; i >= strFrom; i--) {
            w = w << 8 | (b[i] & 0xff);
        }
        return w;
    }

    /** {@link #nameWord()} of an ASCII name of 1 to 8 characters. */
    static long word(String name) {
        long w = 0;
        for (int i = name.length() - 1; i >= 0; i--) {
            w = w << 8 | name.charAt(i);
        }
        return w;
    }

    /** The last name scanned, unescaped; checks its length in UTF-8 bytes and its surrogate escapes. */
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
            throw fail(strFrom, "string longer than " + limits.string() + " characters");
        }
        return s;
    }

    /** The last string scanned, unescaped, whatever its length. */
    @SuppressWarnings("deprecation") // String(byte[], int, int, int): a copy, without the charset dispatch
    final String textUnlimited() {
        if (!strEscaped) {
            return strAscii ? new String(b, 0, strFrom, strTo - strFrom)
                    : new String(b, strFrom, strTo - strFrom, StandardCharsets.UTF_8);
        }
        return unescape();
    }

    private String unescape() {
        char[] out = new char[strTo - strFrom];
        int n = 0;
        int p = strFrom;
        while (p < strTo) {
            byte c = b[p];
            if (c == '\\') {
                out[n++] = unescapeOne(p);
                p += b[p + 1] == 'u' ? 6 : 2;
            } else if (c >= 0) {
                out[n++] = (char) c;
                p++;
            } else {
                int len = Utf8.sequenceLength(b, p, strTo, c & 0xff);
                String s = new String(b, p, len, StandardCharsets.UTF_8);
                for (int i = 0; i < s.length(); i++) {
                    out[n++] = s.charAt(i);
                }
                p += len;
            }
        }
        return new String(out, 0, n);
    }

    /**
     * Scans a number at {@code p} ({@code '-'} or a digit); leaves {@link #kind} ({@link #INT}
     * or {@link #FLOAT}) and the number's bounds. Jackson's length limit counts the digits of
     * the integer part of an integer, and of all three parts of a float.
     */
    final int number(int p) {
        byte[] b = this.b;
        int end = this.end;
        int from = p;
        boolean negative = b[p] == '-';
        if (negative) {
            p++;
        }
        int intFrom = p;
        byte c = at(p);
        if (c >= '1' && c <= '9') {
            p++;
            while (p < end && (c = b[p]) >= '0' && c <= '9') {
                p++;
            }
        } else if (c == '0') {
            p++;
            if (isDigit(at(p))) {
                throw fail(p, "leading zero in number");
            }
        } else {
            throw fail(p, "expected a digit");
        }
        kind = INT;
        numFrom = from;
        numTo = p;
        numIntLen = p - intFrom;
        numNegative = negative;
        c = at(p);
        if (c == '.' || c == 'e' || c == 'E') {
            return fraction(p);
        }
        if (numIntLen > limits.number()) {
            throw fail(from, "number longer than " + limits.number() + " digits");
        }
        return p;
    }

    /** The fraction and exponent of a float whose integer part ends at {@code p}. */
    private int fraction(int p) {
        int digits = numIntLen;
        if (at(p) == '.') {
            int f = p + 1;
            p = digits(f);
            if (p == f) {
                throw fail(p, "expected a digit after '.'");
            }
            digits += p - f;
        }
        byte c = at(p);
        if (c == 'e' || c == 'E') {
            p++;
            c = at(p);
            if (c == '+' || c == '-') {
                p++;
            }
            int e = p;
            p = digits(e);
            if (p == e) {
                throw fail(p, "expected a digit in the exponent");
            }
            digits += p - e;
        }
        if (digits > limits.number()) {
            throw fail(numFrom, "number longer than " + limits.number() + " digits");
        }
        kind = FLOAT;
        numTo = p;
        return p;
    }

    private int digits(int p) {
        while (p < end && isDigit(b[p])) {
            p++;
        }
        return p;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
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

    /** The last number, an integer that {@linkplain #numFitsLong fits}, as a long. */
    final long numLong() {
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
            throw fail(numFrom, "number text longer than " + limits.string() + " characters");
        }
        @SuppressWarnings("deprecation") // as in textUnlimited()
        String text = new String(b, 0, numFrom, numTo - numFrom);
        return text;
    }

    /**
     * Skips the object or array opened at {@code p} inside a container at depth {@code depth},
     * without recursion (the depth limit may be large); returns the position after it.
     */
    final int skipContainer(int p, int depth) {
        checkDepth(p, depth + 1);
        boolean object = b[p] == '{'; // the innermost open container
        long kinds = object ? 1 : 0; // bit i: container i of this value is an object (the first 64)
        int open = 1; // containers open in this value
        int state = FIRST;
        p = ws(p + 1);
        for (;;) {
            byte c = at(p);
            if (state != AFTER) {
                if (state == FIRST && c == (object ? '}' : ']')) {
                    state = AFTER; // an empty container: closed below
                } else {
                    if (object) {
                        if (c != '"') {
                            throw fail(p, "expected a field name");
                        }
                        p = colon(name(p + 1));
                        c = at(p);
                    }
                    if (c == '{' || c == '[') {
                        checkDepth(p, depth + open + 1);
                        object = c == '{';
                        kinds = push(kinds, open, object);
                        open++;
                        p = ws(p + 1);
                        state = FIRST;
                    } else {
                        p = ws(value(p, depth + open)); // a scalar: no recursion
                        state = AFTER;
                    }
                    continue;
                }
            }
            if (c == ',') {
                p = ws(p + 1);
                state = MEMBER;
            } else if (c == (object ? '}' : ']')) {
                open--;
                if (open == 0) {
                    return p + 1;
                }
                object = open <= 64 ? (kinds >>> (open - 1) & 1) != 0 : isDeepObject(open - 1);
                p = ws(p + 1);
            } else {
                throw fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
            }
        }
    }

    private boolean isDeepObject(int level) {
        int i = level - 64;
        return (deepKinds[i >>> 6] >>> (i & 63) & 1) != 0;
    }

    private long push(long kinds, int level, boolean object) {
        if (level < 64) {
            return object ? kinds | 1L << level : kinds & ~(1L << level);
        }
        int i = level - 64;
        if (deepKinds == null || (i >>> 6) >= deepKinds.length) {
            long[] grown = new long[(i >>> 6) + 4];
            if (deepKinds != null) {
                System.arraycopy(deepKinds, 0, grown, 0, deepKinds.length);
            }
            deepKinds = grown;
        }
        if (object) {
            deepKinds[i >>> 6] |= 1L << (i & 63);
        } else {
            deepKinds[i >>> 6] &= ~(1L << (i & 63));
        }
        return kinds;
    }

    /** The limits of the factory's {@code StreamReadConstraints} the scanner applies, as Jackson does. */
    record ScanLimits(int depth, int number, int string, int name) {
    }

    private static final class ScanFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ScanFailure() {
            super("malformed line", null, false, false);
        }
    }
}
