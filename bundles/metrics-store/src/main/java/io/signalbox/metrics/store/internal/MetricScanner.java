package io.signalbox.metrics.store.internal;

import java.nio.charset.StandardCharsets;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A single pass over the bytes of a canonical {@code metric} line that finds {@code data.name},
 * {@code data.value}, {@code data.unit} and the span of {@code data.tags} without building a token
 * stream or a String per field: the store's hot path (the protocol decoder has already validated the
 * line as JSON, so this is the second read of it).
 *
 * <p>It only accepts what it is sure to read exactly as {@link MetricLine#parse} (Jackson) does:
 * strings without escapes and of ASCII only, a field of {@code data} given once, numbers in JSON's
 * grammar. For anything else {@link #scan} answers {@code false} and the caller takes the Jackson
 * path, so the result is always the same as Jackson's ({@code MetricScannerTest} compares both over
 * generated lines). Not thread-safe: one instance per thread or under a lock; the fields describe the
 * last successful {@link #scan}.
 */
final class MetricScanner {
    private static final double[] POW10 = new double[23];
    private static final byte[] NAME = { 'n', 'a', 'm', 'e' };
    private static final byte[] VALUE = { 'v', 'a', 'l', 'u', 'e' };
    private static final byte[] UNIT = { 'u', 'n', 'i', 't' };
    private static final byte[] TAGS = { 't', 'a', 'g', 's' };

    static {
        double p = 1;
        for (int i = 0; i < POW10.length; i++) {
            POW10[i] = p;
            p *= 10;
        }
    }

    private byte[] b;
    private int end;
    /** Offset and length of the name's characters in the line (no quotes). */
    int nameOff;
    int nameLen;
    /** Offset and length of the unit's characters, {@code unitOff = -1} without a unit. */
    int unitOff;
    int unitLen;
    /** Offset and length of the whole tags object ({@code {...}}), {@code tagsLen = 0} without one. */
    int tagsOff;
    int tagsLen;
    double value;

    /** Reads {@code line}; {@code false}: not handled here, use {@link MetricLine#parse}. */
    boolean scan(byte[] line) {
        b = line;
        end = line.length;
        try {
            return scanTop();
        } catch (ArrayIndexOutOfBoundsException e) {
            return false; // a truncated line: Jackson says what is wrong with it
        }
    }

    /** The scanned line. */
    byte[] line() {
        return b;
    }

    String name() {
        return new String(b, nameOff, nameLen, StandardCharsets.ISO_8859_1); // ASCII only (checked)
    }

    String unit() {
        return unitOff < 0 ? null : new String(b, unitOff, unitLen, StandardCharsets.ISO_8859_1);
    }

    /** The tags (decoded from the span the scan checked). */
    SortedMap<String, String> tags() {
        SortedMap<String, String> out = new TreeMap<>();
        if (tagsLen > 0 && walkTags(tagsOff, out) < 0) {
            throw new IllegalStateException("tags changed after the scan");
        }
        return out;
    }

    /** The line as {@link MetricLine} (its tags decoded). */
    MetricLine toMetricLine() {
        return new MetricLine(name(), value, unit(), tags());
    }

    private boolean scanTop() {
        int i = ws(0);
        if (i >= end || b[i] != '{') {
            return false;
        }
        i = ws(i + 1);
        if (b[i] == '}') {
            return false;
        }
        while (true) {
            if (b[i] != '"') {
                return false;
            }
            int ks = i + 1;
            int ke = plainString(ks);
            if (ke < 0) {
                return false;
            }
            i = ws(ke + 1);
            if (b[i] != ':') {
                return false;
            }
            i = ws(i + 1);
            if (ke - ks == 4 && b[ks] == 'd' && b[ks + 1] == 'a' && b[ks + 2] == 't' && b[ks + 3] == 'a' && b[i] == '{') {
                return scanData(i);
            }
            i = skipValue(i);
            if (i < 0) {
                return false;
            }
            i = ws(i);
            if (b[i] == ',') {
                i = ws(i + 1);
            } else {
                return false; // '}' without data (Jackson: "no data object") or anything odd
            }
        }
    }

    private boolean scanData(int at) {
        nameOff = -1;
        unitOff = -1;
        tagsOff = 0;
        tagsLen = 0;
        boolean haveValue = false;
        boolean seenName = false;
        boolean seenUnit = false;
        boolean seenTags = false;
        int i = ws(at + 1);
        if (b[i] == '}') {
            return false;
        }
        while (true) {
            if (b[i] != '"') {
                return false;
            }
            int ks = i + 1;
            int ke = plainString(ks);
            if (ke < 0) {
                return false;
            }
            int kl = ke - ks;
            i = ws(ke + 1);
            if (b[i] != ':') {
                return false;
            }
            i = ws(i + 1);
            int ve;
            if (is(ks, kl, NAME)) {
                if (seenName || b[i] != '"') {
                    return false;
                }
                seenName = true;
                ve = plainString(i + 1);
                if (ve < 0 || ve == i + 1) {
                    return false;
                }
                nameOff = i + 1;
                nameLen = ve - nameOff;
                ve++;
            } else if (is(ks, kl, VALUE)) {
                if (haveValue) {
                    return false;
                }
                ve = number(i);
                if (ve < 0) {
                    return false;
                }
                haveValue = true;
            } else if (is(ks, kl, UNIT)) {
                if (seenUnit || b[i] != '"') {
                    return false;
                }
                seenUnit = true;
                ve = plainString(i + 1);
                if (ve < 0) {
                    return false;
                }
                unitOff = i + 1;
                unitLen = ve - unitOff;
                ve++;
            } else if (is(ks, kl, TAGS)) {
                if (seenTags || b[i] != '{') {
                    return false;
                }
                seenTags = true;
                ve = walkTags(i, null);
                if (ve < 0) {
                    return false;
                }
                tagsOff = i;
                tagsLen = ve - i;
            } else {
                ve = skipValue(i);
                if (ve < 0) {
                    return false;
                }
            }
            i = ws(ve);
            if (b[i] == ',') {
                i = ws(i + 1);
            } else if (b[i] == '}') {
                return seenName && haveValue;
            } else {
                return false;
            }
        }
    }

    /**
     * Walks a tags object at {@code at} ('{'): keys and string values plain, number/true/false values
     * kept as their text, null and nested values skipped (as {@link MetricLine} does). Returns the offset
     * after '}', or -1 if the scanner does not handle it.
     */
    private int walkTags(int at, SortedMap<String, String> out) {
        int i = ws(at + 1);
        if (b[i] == '}') {
            return i + 1;
        }
        while (true) {
            if (b[i] != '"') {
                return -1;
            }
            int ks = i + 1;
            int ke = plainString(ks);
            if (ke < 0) {
                return -1;
            }
            i = ws(ke + 1);
            if (b[i] != ':') {
                return -1;
            }
            i = ws(i + 1);
            int ve;
            byte c = b[i];
            if (c == '"') {
                ve = plainString(i + 1);
                if (ve < 0) {
                    return -1;
                }
                if (out != null) {
                    out.put(ascii(ks, ke), ascii(i + 1, ve));
                }
                ve++;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                ve = numberEnd(i);
                if (ve < 0) {
                    return -1;
                }
                if (out != null) {
                    out.put(ascii(ks, ke), ascii(i, ve));
                }
            } else if (c == 't' || c == 'f') {
                ve = literal(i);
                if (ve < 0) {
                    return -1;
                }
                if (out != null) {
                    out.put(ascii(ks, ke), c == 't' ? "true" : "false");
                }
            } else {
                ve = skipValue(i); // null, object, array: not a tag
                if (ve < 0) {
                    return -1;
                }
            }
            i = ws(ve);
            if (b[i] == ',') {
                i = ws(i + 1);
            } else if (b[i] == '}') {
                return i + 1;
            } else {
                return -1;
            }
        }
    }

    private String ascii(int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private boolean is(int off, int len, byte[] s) {
        if (len != s.length) {
            return false;
        }
        for (int k = 0; k < len; k++) {
            if (b[off + k] != s[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Skips whitespace. Small enough for C1 (the shipped JIT) to inline: lines are compact JSON, so the
     * common case is no whitespace at all; past the end it throws, which {@link #scan} catches.
     */
    private int ws(int i) {
        if (b[i] > ' ') {
            return i;
        }
        return wsRun(i);
    }

    private int wsRun(int i) {
        while (i < end) {
            byte c = b[i];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                break;
            }
            i++;
        }
        if (i >= end) {
            throw new ArrayIndexOutOfBoundsException(i); // caught in scan(): not handled here
        }
        return i;
    }

    /** The closing quote of a string whose characters start at {@code i}: -1 for escapes, control or non-ASCII bytes. */
    private int plainString(int i) {
        while (true) {
            byte c = b[i]; // past the end: caught in scan()
            if (c == '"') {
                return i;
            }
            if (c == '\\' || c < 0x20) { // negative: a byte of a multi-byte UTF-8 character
                return -1;
            }
            i++;
        }
    }

    /** Skips any JSON value at {@code i}; returns the offset after it, -1 if it does not look like JSON. */
    private int skipValue(int i) {
        byte c = b[i];
        if (c == '"') {
            return skipString(i + 1);
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (true) {
                c = b[i];
                if (c == '"') {
                    i = skipString(i + 1);
                    if (i < 0) {
                        return -1;
                    }
                    continue;
                }
                if (c == '{' || c == '[') {
                    if (++depth > 200) {
                        return -1; // deep nesting: Jackson's limits decide
                    }
                } else if (c == '}' || c == ']') {
                    if (--depth == 0) {
                        return i + 1;
                    }
                }
                i++;
            }
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            return numberEnd(i);
        }
        return literal(i);
    }

    /** After a string (escapes allowed) whose characters start at {@code i}. */
    private int skipString(int i) {
        while (true) {
            byte c = b[i];
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                i += 2;
            } else if (c >= 0 && c < 0x20) {
                return -1;
            } else {
                i++;
            }
        }
    }

    private int literal(int i) {
        if (match(i, "true")) {
            return i + 4;
        }
        if (match(i, "false")) {
            return i + 5;
        }
        if (match(i, "null")) {
            return i + 4;
        }
        return -1;
    }

    private boolean match(int i, String s) {
        if (i + s.length() > end) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            if (b[i + k] != s.charAt(k)) {
                return false;
            }
        }
        int after = i + s.length();
        return after == end || delimiter(b[after]);
    }

    private static boolean delimiter(byte c) {
        return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    /** The end of a number in JSON's grammar at {@code i}, -1 if it is not one. */
    private int numberEnd(int i) {
        int start = i;
        if (b[i] == '-') {
            i++;
        }
        if (i >= end) {
            return -1;
        }
        if (b[i] == '0') {
            i++;
        } else if (b[i] >= '1' && b[i] <= '9') {
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                i++;
            }
        } else {
            return -1;
        }
        if (i < end && b[i] == '.') {
            i++;
            int s = i;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                i++;
            }
            if (i == s) {
                return -1;
            }
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int s = i;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                i++;
            }
            if (i == s) {
                return -1;
            }
        }
        if ((i < end && !delimiter(b[i])) || i - start > 100) {
            return -1; // very long numbers: Jackson's length limits decide
        }
        return i;
    }

    /**
     * Reads the number at {@code i} into {@link #value}; returns its end or -1 (not a number). Integers of
     * up to 18 digits convert exactly like Jackson's (int/long to double); decimals with at most 15
     * significant digits and a power of ten within ±22 are exact (one correctly rounded operation);
     * anything else goes through {@link Double#parseDouble}, which is correctly rounded as Jackson's is.
     */
    private int number(int i) {
        int e = numberEnd(i);
        if (e < 0) {
            return -1;
        }
        int k = i;
        boolean neg = b[k] == '-';
        if (neg) {
            k++;
        }
        long m = 0;
        int digits = 0;
        int fracDigits = 0;
        boolean isInt = true;
        int exp = 0;
        for (; k < e; k++) {
            byte c = b[k];
            if (c >= '0' && c <= '9') {
                if (digits > 0 || c != '0') {
                    digits++;
                }
                m = m * 10 + (c - '0');
                if (!isInt) {
                    fracDigits++;
                }
                if (digits > 18) {
                    break;
                }
            } else if (c == '.') {
                isInt = false;
            } else { // e or E
                isInt = false;
                k++;
                boolean eneg = false;
                if (b[k] == '+' || b[k] == '-') {
                    eneg = b[k] == '-';
                    k++;
                }
                int x = 0;
                for (; k < e && x < 10_000; k++) {
                    x = x * 10 + (b[k] - '0');
                }
                exp = eneg ? -x : x;
                break;
            }
        }
        if (digits > 18 || (!isInt && digits > 15)) {
            value = Double.parseDouble(new String(b, i, e - i, StandardCharsets.ISO_8859_1));
            return e;
        }
        if (isInt) {
            value = (double) (neg ? -m : m); // "-0" is the integer 0, as in Jackson
            return e;
        }
        int p = exp - fracDigits;
        double v;
        if (m == 0) {
            v = 0.0;
        } else if (p >= 0 && p <= 22) {
            v = m * POW10[p];
        } else if (p < 0 && p >= -22) {
            v = m / POW10[-p];
        } else {
            value = Double.parseDouble(new String(b, i, e - i, StandardCharsets.ISO_8859_1));
            return e;
        }
        value = neg ? -v : v;
        return e;
    }
}
