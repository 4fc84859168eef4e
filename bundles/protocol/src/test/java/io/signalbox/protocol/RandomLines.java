package io.signalbox.protocol;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random protocol lines for the differential test: valid lines of every type (and some
 * unknown ones) with the envelope in any order, optional fields, escapes, raw and escaped
 * non-ASCII text, surrogate pairs, numbers at the edges, nested payloads up to and past a depth
 * limit; and then, for about half of them, mutations of the bytes (flips, truncation, inserted
 * or deleted bytes, invalid UTF-8, control characters, trailing content) or of the structure
 * (duplicated keys, wrong types, long-form names).
 */
final class RandomLines {
    private static final String[] TYPES = {"event", "metric", "span", "progress", "resource", "heartbeat", "hello",
        "goodbye"};
    private static final String[] ODD_TYPES = {"log", "Event", "", "\\u0065vent", "spa\\u006e", "x".repeat(45),
        "évent", "hello "};
    private static final String[] LEVELS = {"info", "error", "warn", "debug", "fatal", "trace", "INFO", "\\u0069nfo",
        "érreur", ""};
    private static final String[] NUMBERS = {"0", "-0", "1", "-1", "7", "42", "1700000000123", "-1700000000123",
        "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "12345678901234567890", "99999999999999999999999",
        "1.5", "-1.5", "0.5", "-0.0", "1e3", "1E+3", "1e-3", "2.5e-2", "1e400", "-1e400", "1e-400",
        "1700000001000.999", "1700000001000.5e0", "123456789012345.5", "9007199254740993.5", "0.1",
        "4.9e-324", "1.7976931348623157e308", "3.0000000000000000001"};
    private static final String[] BAD_NUMBERS = {"01", "-01", "00", "1.", ".5", "+1", "1e", "1e+", "-", "1.e3",
        "0x10", "NaN", "Infinity", "-Infinity", "1..2", "1ee2", "--1", "1_000"};
    private static final String[] KEYS = {"v", "src", "ts", "type", "tid", "sid", "pid", "ctx", "data", "extra",
        "source", "timestamp", "trace_id", "span_id", "parent_span_id", "\\u0076", "sr\\u0063", "data2", ""};
    /**
     * Names of nested fields: a fixed set (Jackson interns every new name, so random names would
     * make the reference slow), with escapes, raw and escaped non-ASCII, surrogates paired and not.
     */
    private static final String[] NAMES = {"\"a\"", "\"\"", "\"é\"", "\"\\u00e9\"", "\"\\uD83D\\uDE00\"",
        "\"\uD83D\uDE00\"", "\"a b\"", "\"\\n\"", "\"\\\\\"", "\"\\/x\"", "\"nested_name\"", "\"€uro\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"a\\u0000\"", "\"\\u0076\"", "\"level\"", "\"src\"", "\"123456\"",
        "\"\\uD83D\\u0041\"", "\"\\uD83Dx\"", "\"中文字\""};
    private static final String[] WHITESPACE = {" ", "\t", "\n", "\r", "  ", " \t "};
    private static final String[] BAD_WHITESPACE = {"\f", "\u000b", "\u00a0", "\u0000", "\u001f"};
    private static final byte[][] BAD_UTF8 = {
        {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xF0, (byte) 0x80, (byte) 0x80,
            (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xBF}, {(byte) 0xFF},
        {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC3},
        {(byte) 0xC3, (byte) 0x28}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
    };
    private static final String INSERTS = "\"{}[],:\\/0-.eE +tfnu\u00e9";

    private final SplittableRandom random;
    /** Nesting depth at which deep values are made: around the limit of the factory under test. */
    private final int depthLimit;

    /** {@code src} values (JSON text) to draw from nine times in ten, or {@code null}: random strings. */
    private final String[] sources;

    RandomLines(long seed, int depthLimit) {
        this(seed, depthLimit, null);
    }

    /**
     * Lines whose {@code src} is mostly one of {@code sources} (JSON values as written), as on
     * connections that send as a few sources: a connection's decoder remembers the last one.
     */
    RandomLines(long seed, int depthLimit, String[] sources) {
        this.random = new SplittableRandom(seed);
        this.depthLimit = depthLimit;
        this.sources = sources;
    }

    /** A mutation of the last line made, to be returned next; {@code null} if none is due. */
    private byte[] pending;

    /**
     * The next line: a made line (two in three meant to be valid, the others structurally odd),
     * and after about three in five of them a mutation of the same line (made lines cost more
     * than mutations).
     */
    byte[] next() {
        if (pending != null) {
            byte[] b = pending;
            pending = null;
            return b;
        }
        byte[] bytes = line(chance(67) ? 0 : 1).getBytes(StandardCharsets.UTF_8);
        if (chance(60)) {
            byte[] mutated = mutate(bytes);
            int more = below(4) == 0 ? below(1, 3) : 0;
            for (int i = 0; i < more; i++) {
                mutated = mutate(mutated);
            }
            pending = mutated;
        }
        return bytes;
    }

    /** A line; {@code oddness} 0: valid, 1: structurally odd (wrong types, duplicates, odd keys). */
    private String line(int oddness) {
        List<String> fields = new ArrayList<>();
        String type = oddness > 0 && chance(10) ? pick(ODD_TYPES) : pick(TYPES);
        fields.add(kv("v", oddness > 0 && chance(10) ? pick("2", "1.0", "\"1\"", "-0", "01", "null", "10000000000")
                : "1"));
        fields.add(kv(chance(3) ? "sr\\u0063" : "src", oddness > 0 && chance(10) ? anyValue(1)
                : sources != null && chance(90) ? pick(sources) : string(1, 16)));
        fields.add(kv("ts", oddness > 0 && chance(10) ? pick(NUMBERS) : String.valueOf(random.nextLong(0,
                2_000_000_000_000L))));
        fields.add(kv("type", "\"" + type + "\""));
        for (String id : new String[] {"tid", "sid", "pid"}) {
            if (chance(50)) {
                fields.add(kv(id, oddness > 0 && chance(5) ? anyValue(1) : idValue()));
            }
        }
        if (chance(40)) {
            fields.add(kv("ctx", oddness > 0 && chance(10) ? anyValue(1) : object(1, 3)));
        }
        fields.add(kv("data", oddness > 0 && chance(5) ? anyValue(1) : data(type.replace("\\u0065", "e"), oddness)));
        if (chance(20)) {
            fields.add(kv(chance(50) ? "extra" : string(0).replace("\"", ""), anyValue(1)));
        }
        if (below(1000) < 3) { // nested around the depth limit (the object itself is level 1)
            fields.add(kv("deep", deep(depthLimit - 2 + below(4))));
        }
        if (oddness > 0) {
            if (chance(30)) { // a duplicate, possibly under an escaped name
                fields.add(below(fields.size() + 1), kv(pick(KEYS), anyValue(1)));
            }
            if (chance(20)) {
                fields.remove(below(fields.size()));
            }
            if (chance(10)) { // a long-form name: the reference decodes the line
                fields.add(below(fields.size() + 1), kv(pick("source", "timestamp", "trace_id",
                        "span_id", "parent_span_id", "\\u0073ource"), pick("\"2024-03-01T12:00:00Z\"", "1234",
                        "\"legacy\"", "42")));
            }
        }
        if (chance(70)) { // mostly in the usual order
            for (int i = fields.size() - 1; i > 0; i--) {
                if (chance(15)) {
                    int j = below(i + 1);
                    fields.set(i, fields.set(j, fields.get(i)));
                }
            }
        }
        StringBuilder sb = new StringBuilder(200);
        sb.append(ws(5)).append('{');
        for (int i = 0; i < fields.size(); i++) {
            sb.append(i == 0 ? "" : ws(3) + "," + ws(3)).append(fields.get(i));
        }
        sb.append(ws(3)).append('}').append(chance(5) ? pick("\r", " ", "\t \r", "\n") : "");
        return sb.toString();
    }

    private String data(String type, int oddness) {
        List<String> fields = new ArrayList<>();
        boolean odd = oddness > 0 && chance(30);
        switch (type) {
            case "event" -> {
                maybe(fields, "level", odd && chance(30) ? anyValue(2) : "\"" + pick(LEVELS) + "\"");
                maybe(fields, "msg", odd && chance(30) ? anyValue(2) : string(40));
            }
            case "metric" -> {
                maybe(fields, "name", odd && chance(30) ? anyValue(2) : string(12));
                maybe(fields, "value", odd && chance(30) ? anyValue(2) : pick(NUMBERS));
                maybe(fields, "unit", string(5));
            }
            case "span" -> {
                maybe(fields, "name", odd && chance(30) ? anyValue(2) : string(12));
                maybe(fields, "status", odd && chance(30) ? anyValue(2) : pick("\"ok\"", "\"error\"", "null",
                        "\"\\u006fk\""));
                maybe(fields, "start", odd && chance(30) ? anyValue(2) : chance(20) ? pick(NUMBERS)
                        : String.valueOf(1_700_000_000_000L + below(1000)));
                if (chance(70)) {
                    maybe(fields, "end", odd && chance(30) ? anyValue(2) : chance(20) ? pick(NUMBERS)
                            : String.valueOf(1_700_000_001_000L + below(1000)));
                }
                if (chance(40)) {
                    maybe(fields, "dur_ms", odd && chance(30) ? anyValue(2) : chance(20) ? pick(NUMBERS)
                            : String.valueOf(below(5000)));
                }
            }
            default -> {
                // any payload
            }
        }
        int extra = below(3);
        for (int i = 0; i < extra; i++) {
            fields.add(kv(pick("attrs", "tags", "job_id", "percent", "level", "name", "d\\u0061ta", "n\\u0061me",
                    "value", "status"), anyValue(2)));
        }
        if (chance(10)) {
            fields.add(below(fields.size() + 1), kv(pick("level", "name", "status", "start", "end",
                    "dur_ms", "value", "msg"), anyValue(2)));
        }
        StringBuilder sb = new StringBuilder().append('{');
        for (int i = 0; i < fields.size(); i++) {
            sb.append(i == 0 ? ws(10) : ws(10) + "," + ws(10)).append(fields.get(i));
        }
        return sb.append(ws(10)).append('}').toString();
    }

    private void maybe(List<String> fields, String key, String value) {
        if (!chance(3)) {
            fields.add(kv(key, value));
        }
    }

    private String kv(String key, String value) {
        return "\"" + key + "\"" + ws(5) + ":" + ws(5) + value;
    }

    private String idValue() {
        return switch (below(6)) {
            case 0 -> pick(NUMBERS);
            case 1 -> pick("null", "\"\"", "\"\\u0000\"");
            default -> string(10);
        };
    }

    /** Any JSON value at nesting depth {@code depth}. */
    private String anyValue(int depth) {
        return switch (below(depth > 4 ? 6 : 8)) {
            case 0, 1 -> string(8);
            case 2 -> pick(NUMBERS);
            case 3 -> pick("true", "false", "null");
            case 4 -> chance(3) ? pick(BAD_NUMBERS) : pick(NUMBERS);
            case 5 -> "\"\"";
            case 6 -> object(depth + 1, 3);
            default -> array(depth + 1, 3);
        };
    }

    private String object(int depth, int maxSize) {
        int n = below(maxSize + 1);
        StringBuilder sb = new StringBuilder().append('{').append(ws(10));
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(chance(30) ? pick(NAMES) : "\"k" + i + "\"").append(ws(10)).append(':')
                    .append(anyValue(depth));
        }
        return sb.append(ws(10)).append('}').toString();
    }

    private String array(int depth, int maxSize) {
        int n = below(maxSize + 1);
        StringBuilder sb = new StringBuilder().append('[');
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : "," + ws(10)).append(anyValue(depth));
        }
        return sb.append(']').toString();
    }

    /** A value nested {@code levels} deep (objects and arrays mixed). */
    private String deep(int levels) {
        StringBuilder open = new StringBuilder();
        StringBuilder close = new StringBuilder();
        for (int i = 0; i < levels; i++) {
            if (chance(50)) {
                open.append("{\"a\":");
                close.append('}');
            } else {
                open.append('[');
                close.append(']');
            }
        }
        return open.append(chance(50) ? "1" : "[]").append(close.reverse()).toString();
    }

    /** A quoted string of up to {@code max} units: ASCII, escapes, raw non-ASCII, surrogate pairs; rarely a bad one. */
    private String string(int max) {
        return string(0, max);
    }

    private String string(int min, int max) {
        int n = below(min, max + 1);
        StringBuilder sb = new StringBuilder(n + 2).append('"');
        for (int i = 0; i < n; i++) {
            int r = below(1000);
            if (r < 700) {
                char c = r < 400 ? (char) below('a', 'z' + 1) : (char) below(0x20, 0x7f);
                sb.append(c == '"' || c == '\\' ? 'z' : c);
            } else if (r < 800) {
                sb.append(pick("\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9",
                        "\\u20AC", "\\uD83D\\uDE00", "\\ud800", "\\udc00", "\\u0000", "\\uFFFF"));
            } else if (r < 900) {
                sb.append(pick("é", "ü", "€", "中", "\uD83D\uDE00", "\uDBFF\uDFFF", "\u0080", "\u07FF", "\uFFFD", "\u007f"));
            } else if (r < 904) {
                sb.append(pick("\\x", "\\u12", "\\uZZZZ", "\\'", "\t", "\u0001", "\n", "\\U0041"));
            } else {
                sb.append(' ');
            }
        }
        return sb.append('"').toString();
    }

    private String ws(int oneIn) {
        if (below(oneIn * 4) != 0) {
            return "";
        }
        return below(40) == 0 ? pick(BAD_WHITESPACE) : pick(WHITESPACE);
    }

    private byte[] mutate(byte[] b) {
        if (b.length == 0) {
            return b;
        }
        int at = below(b.length);
        switch (below(9)) {
            case 0: { // flip a byte
                byte[] c = b.clone();
                c[at] = (byte) (random.nextBoolean() ? below(256) : INSERTS.charAt(below(
                        INSERTS.length() - 1)));
                return c;
            }
            case 1: // truncate
                return java.util.Arrays.copyOf(b, at);
            case 2: // insert a character
                return splice(b, at, 0, String.valueOf(INSERTS.charAt(below(INSERTS.length())))
                        .getBytes(StandardCharsets.UTF_8));
            case 3: // delete one or a few bytes
                return splice(b, at, Math.min(b.length - at, 1 + below(3)), new byte[0]);
            case 4: // invalid UTF-8, mostly inside a string
                return splice(b, stringPosition(b, at), 0, BAD_UTF8[below(BAD_UTF8.length)]);
            case 5: // a control character, mostly inside a string
                return splice(b, stringPosition(b, at), 0, new byte[] {(byte) below(0x20)});
            case 6: // trailing content
                return splice(b, b.length, 0, pick(" {}", "x", ",", " 1", "}", "]", " \"s\"", "{\"v\":1}", " null",
                        "\u0000", " \u00e9").getBytes(StandardCharsets.UTF_8));
            case 7: // leading content
                return splice(b, 0, 0, pick("\uFEFF", "[", "x", "\"", "1", " \u0000").getBytes(StandardCharsets.UTF_8));
            default: // swap two bytes
                byte[] c = b.clone();
                int other = below(b.length);
                byte t = c[at];
                c[at] = c[other];
                c[other] = t;
                return c;
        }
    }

    /** A position just after a quote near {@code at} (inside a string or name), or {@code at}. */
    private int stringPosition(byte[] b, int at) {
        for (int i = at; i < b.length && i < at + 40; i++) {
            if (b[i] == '"' && chance(80)) {
                return i + 1;
            }
        }
        return at;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] c = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(insert, 0, c, at, insert.length);
        System.arraycopy(b, at + remove, c, at + insert.length, b.length - at - remove);
        return c;
    }

    private boolean chance(int percent) {
        return below(100) < percent;
    }

    /** A number in {@code [0, bound)}: a multiply and shift instead of {@code nextInt(bound)}'s division (the bias does not matter). */
    private int below(int bound) {
        return (int) (((random.nextInt() & 0xFFFFFFFFL) * bound) >>> 32);
    }

    private int below(int from, int to) {
        return from + below(to - from);
    }

    private String pick(String... options) {
        return options[below(options.length)];
    }
}
