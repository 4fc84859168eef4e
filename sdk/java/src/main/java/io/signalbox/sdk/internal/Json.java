package io.signalbox.sdk.internal;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SDK's tiny JSON writer: appends values to a {@link StringBuilder}. Strings are escaped per
 * RFC 8259; numbers that JSON cannot hold (NaN, infinities) become {@code null}; maps become
 * objects (keys through {@link String#valueOf}), iterables and arrays become arrays; anything
 * else is written as its {@code toString()} text. Nesting deeper than {@value #MAX_DEPTH} levels
 * is cut to the {@code toString()} text, so a self-referencing map cannot loop.
 */
public final class Json {
    static final int MAX_DEPTH = 16;
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    /** Doubles with an integral value below this magnitude are written without a fraction. */
    private static final double EXACT_LONG = 9.007199254740992E15; // 2^53

    private Json() {
    }

    /** Appends {@code s} as a JSON string (quoted and escaped); {@code null} as {@code null}. */
    public static StringBuilder string(StringBuilder sb, String s) {
        if (s == null) {
            return sb.append("null");
        }
        sb.append('"');
        int n = s.length();
        int from = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            sb.append(s, from, i);
            from = i + 1;
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.append(s, from, n).append('"');
    }

    /** Appends a double: integral values without a fraction, NaN and infinities as {@code null}. */
    public static StringBuilder number(StringBuilder sb, double d) {
        if (d != d || Double.isInfinite(d)) {
            return sb.append("null");
        }
        if (d == Math.rint(d) && Math.abs(d) < EXACT_LONG) {
            return sb.append((long) d);
        }
        return sb.append(d);
    }

    /** Appends any value (see the class comment). */
    public static StringBuilder value(StringBuilder sb, Object v) {
        return value(sb, v, 0);
    }

    private static StringBuilder value(StringBuilder sb, Object v, int depth) {
        if (v == null) {
            return sb.append("null");
        }
        if (v instanceof String) {
            return string(sb, (String) v);
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger || v instanceof AtomicInteger || v instanceof AtomicLong) {
            return sb.append(v);
        }
        if (v instanceof Double || v instanceof Float) {
            return number(sb, ((Number) v).doubleValue());
        }
        if (v instanceof BigDecimal) {
            return sb.append(((BigDecimal) v).toString());
        }
        if (v instanceof Boolean) {
            return sb.append(((Boolean) v).booleanValue());
        }
        if (depth >= MAX_DEPTH) {
            return string(sb, String.valueOf(v));
        }
        if (v instanceof Map) {
            return object(sb, (Map<?, ?>) v, depth + 1);
        }
        if (v instanceof Iterable) {
            sb.append('[');
            boolean first = true;
            for (Object e : (Iterable<?>) v) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                value(sb, e, depth + 1);
            }
            return sb.append(']');
        }
        if (v.getClass().isArray()) {
            sb.append('[');
            int n = Array.getLength(v);
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                value(sb, Array.get(v, i), depth + 1);
            }
            return sb.append(']');
        }
        if (v instanceof Number) {
            return number(sb, ((Number) v).doubleValue());
        }
        return string(sb, String.valueOf(v));
    }

    /** Appends a map as a JSON object. */
    public static StringBuilder object(StringBuilder sb, Map<?, ?> map) {
        return object(sb, map, 1);
    }

    private static StringBuilder object(StringBuilder sb, Map<?, ?> map, int depth) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            string(sb, String.valueOf(e.getKey())).append(':');
            value(sb, e.getValue(), depth);
        }
        return sb.append('}');
    }
}
