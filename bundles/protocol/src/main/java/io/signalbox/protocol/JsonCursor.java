package io.signalbox.protocol;

import static io.signalbox.protocol.Swar.LONGS;
import static io.signalbox.protocol.Swar.digitsValue;
import static io.signalbox.protocol.Swar.eightDigitsValue;
import static io.signalbox.protocol.Swar.leadingDigits;
import static io.signalbox.protocol.Swar.special;

/**
 * The syntax of the single-pass scanner ({@link JsonValues} reads the values a line keeps,
 * {@link ShortFormScan} walks its fields): RFC 8259 JSON read straight from the caller's bytes,
 * as strictly as Jackson's {@code UTF8StreamJsonParser} with default features reads it — no
 * comments, no single quotes, no leading zeros, {@code +} or {@code NaN}, no unescaped control
 * characters in strings or names, only space, tab, CR and LF as whitespace — plus strict UTF-8
 * (RFC 3629, {@link Utf8}) inside strings, the only place a byte above 0x7F may appear, and the
 * factory's {@code StreamReadConstraints} as Jackson applies them ({@link ScanLimits}).
 * Positions are passed in and returned as ints; what a scan learns about the last string or
 * number is left in fields, read only when a value is kept.
 *
 * <p>A syntax error throws the shared, stackless {@link #MALFORMED} after noting where and what
 * ({@link #errorAt}, {@link #errorWhat}); {@link ShortFormScan#scan()} turns it into a
 * rejection, so no exception leaves the scanner. Scratch state of one decode at a time, never
 * shared between threads: {@link #begin} starts the next line (a connection's scanner is reused
 * for all its lines).
 */
abstract class JsonCursor extends FieldTally {
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

    /** 10^n for the digits {@link #number} reads at a time (fewer than eight). */
    private static final long[] POW10 = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000};

    /** Thrown (never with a stack trace) on the first syntax error; details in the cursor. */
    static final RuntimeException MALFORMED = new ScanFailure();


    /** The line's buffer, {@code null} between scans (a connection's read buffer is not held on to). */
    byte[] b;
    /** The trimmed line: {@code b[start, end)}, {@code b[start] == '{'}. */
    int start;
    int end;
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
    /** The last integer's absolute value, if it has fewer than 19 digits. */
    long numMagnitude;

    /** Object (1) or array (0) per open container of {@link #skipContainer}, beyond the first 64 levels. */
    private long[] deepKinds;

    int errorAt;
    String errorWhat;

    JsonCursor(ScanLimits limits) {
        this.limits = limits;
    }

    /** Starts the scan of the trimmed line {@code b[start, end)}: forgets everything about the last one. */
    void begin(byte[] b, int start, int end) {
        this.b = b;
        this.start = start;
        this.end = end;
        seen = 0;
        error = null;
        kind = 0;
        errorAt = 0;
        errorWhat = null;
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

    /** Checks an escaped name (its unescaped length and surrogates) and returns it unescaped. */
    abstract String escapedName();

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
        for (; p + 8 <= end; p += 8) {
            long w = (long) LONGS.get(b, p);
            long special = special(w);
            if (special != 0) {
                int k = Swar.firstMarkedByte(special); // the first special byte
                p += k;
                return (byte) (w >>> (k << 3)) == '"' ? plainString(from, p) : stringRest(from, p);
            }
        }
        byte c = 0;
        while (p < end && (c = b[p]) >= 0x20 && c != '"' && c != '\\') {
            p++;
        }
        return p < end && c == '"' ? plainString(from, p) : stringRest(from, p);
    }

    /** Ends a string of plain ASCII closed at {@code p}. */
    private int plainString(int from, int p) {
        strFrom = from;
        strTo = p;
        strEscaped = false;
        strAscii = true;
        return p + 1;
    }

    /** The first position at or after {@code p} that ends the plain run of a string (or {@link #end}). */
    private int plainRun(int p) {
        byte[] b = this.b;
        int end = this.end;
        // printable ASCII other than '"' and '\\', eight bytes at a time
        long special = 0;
        while (p + 8 <= end && (special = special((long) LONGS.get(b, p))) == 0) {
            p += 8;
        }
        if (special != 0) {
            return p + Swar.firstMarkedByte(special);
        }
        byte c;
        while (p < end && (c = b[p]) >= 0x20 && c != '"' && c != '\\') {
            p++;
        }
        return p;
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
            p = plainRun(p);
        }
        strFrom = from;
        strTo = p;
        strEscaped = escaped;
        strAscii = ascii;
        return p + 1;
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

    static int hex(byte c) {
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
     * Scans a number at {@code p} ({@code '-'} or a digit); leaves {@link #kind} ({@link #INT}
     * or {@link #FLOAT}) and the number's bounds. Jackson's length limit counts the digits of
     * the integer part of an integer, and of all three parts of a float.
     */
    final int number(int p) {
        // Kept under C2's inlining size for hot methods (325 bytecodes): the rare paths are calls.
        byte[] b = this.b;
        int end = this.end;
        int from = p;
        boolean negative = b[p] == '-';
        if (negative) {
            p++;
        }
        int intFrom = p;
        byte c = at(p);
        long magnitude = 0; // exact if there are at most 18 digits
        if (c >= '1' && c <= '9') {
            for (;;) { // up to eight digits at a time
                if (p + 8 > end) {
                    p = lastDigits(p, magnitude);
                    magnitude = numMagnitude;
                    break;
                }
                long w = (long) LONGS.get(b, p);
                int n = leadingDigits(w);
                if (n == 8) {
                    magnitude = magnitude * 100_000_000L + eightDigitsValue(w);
                    p += 8;
                    continue;
                }
                if (n > 0) {
                    magnitude = magnitude * POW10[n] + digitsValue(w, n);
                    p += n;
                }
                break;
            }
        } else {
            p = zero(p, c);
        }
        kind = INT;
        numFrom = from;
        numTo = p;
        numIntLen = p - intFrom;
        numNegative = negative;
        numMagnitude = magnitude;
        c = at(p);
        if (c == '.' || c == 'e' || c == 'E') {
            return fraction(p);
        }
        if (numIntLen > limits.number()) {
            throw numberTooLong();
        }
        return p;
    }

    /** The digits of an integer part that ends within the line's last eight bytes, one at a time; leaves {@link #numMagnitude}. */
    private int lastDigits(int p, long magnitude) {
        byte c;
        while (p < end && (c = b[p]) >= '0' && c <= '9') {
            magnitude = magnitude * 10 + (c - '0');
            p++;
        }
        numMagnitude = magnitude;
        return p;
    }

    /** An integer part that does not start with 1 to 9 at {@code p}: a lone {@code '0'}, else an error. */
    private int zero(int p, byte c) {
        if (c != '0') {
            throw fail(p, "expected a digit");
        }
        if (isDigit(at(p + 1))) {
            throw fail(p + 1, "leading zero in number");
        }
        return p + 1;
    }

    private RuntimeException numberTooLong() {
        return fail(numFrom, "number longer than " + limits.number() + " digits");
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
            throw numberTooLong();
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

    static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
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
                throw separatorExpected(p, object);
            }
        }
    }

    /** Out of line: keeps {@link #skipContainer} under C2's inlining size for hot methods. */
    private RuntimeException separatorExpected(int p, boolean object) {
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
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

    private static final class ScanFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ScanFailure() {
            super("malformed line", null, false, false);
        }
    }
}
