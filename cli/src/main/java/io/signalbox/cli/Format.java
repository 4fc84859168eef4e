package io.signalbox.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Durations, counts, times and aligned tables for the terminal. */
final class Format {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT);
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS",
            Locale.ROOT);

    private Format() {
    }

    /** {@code 45ms}, {@code 0.1s}, {@code 45.2s}, {@code 4m05s}, {@code 2h03m}, {@code 3d04h}. */
    static String duration(long ms) {
        if (ms < 0) {
            return "-" + duration(-ms);
        }
        if (ms < 100) {
            return ms + "ms";
        }
        if (ms < 60_000) {
            long tenths = (ms + 50) / 100;
            if (tenths < 600) {
                return tenths / 10 + "." + tenths % 10 + "s";
            }
        }
        long s = (ms + 500) / 1000;
        if (s < 3600) {
            return s / 60 + "m" + two(s % 60) + "s";
        }
        long m = s / 60;
        if (m < 24 * 60) {
            return m / 60 + "h" + two(m % 60) + "m";
        }
        long h = m / 60;
        return h / 24 + "d" + two(h % 24) + "h";
    }

    private static String two(long n) {
        return n < 10 ? "0" + n : Long.toString(n);
    }

    /** {@code 1,234,567}. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A rate with one decimal below 100, whole above: {@code 0.5}, {@code 12.3}, {@code 1,234}. */
    static String rate(double perSecond) {
        if (perSecond < 100) {
            return String.format(Locale.ROOT, "%.1f", perSecond);
        }
        return String.format(Locale.ROOT, "%,d", Math.round(perSecond));
    }

    /** {@code 1.5 KiB}, {@code 3.0 MiB}; bytes below 1 KiB as {@code 512 B}. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = { "KiB", "MiB", "GiB", "TiB" };
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String clock(long epochMillis, ZoneId zone) {
        return CLOCK.format(Instant.ofEpochMilli(epochMillis).atZone(zone));
    }

    static String dateTime(long epochMillis, ZoneId zone) {
        return DATE_TIME.format(Instant.ofEpochMilli(epochMillis).atZone(zone));
    }

    /** A number as JSON gave it: whole numbers without a fraction. */
    static String number(Object v) {
        if (v instanceof Double) {
            double d = (Double) v;
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return Long.toString((long) d);
            }
            return Double.toString(d);
        }
        return String.valueOf(v);
    }

    /**
     * Text from a message made safe for one terminal line: surrounding whitespace trimmed, control
     * characters (a newline in a message, or an escape sequence that would drive the terminal)
     * shown escaped as a backslash and {@code n}, {@code r}, {@code t}, or {@code u} and four hex digits.
     */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        String t = s.strip();
        StringBuilder sb = null;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (control && sb == null) {
                sb = new StringBuilder(t.length() + 8).append(t, 0, i);
            }
            if (sb == null) {
                continue;
            }
            if (!control) {
                sb.append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        return sb == null ? t : sb.toString();
    }

    /** Rows (the first is the header) as columns padded to their widest cell, two spaces apart. */
    static List<String> table(List<List<String>> rows, String indent) {
        int columns = 0;
        for (List<String> r : rows) {
            columns = Math.max(columns, r.size());
        }
        int[] width = new int[columns];
        for (List<String> r : rows) {
            for (int c = 0; c < r.size(); c++) {
                width[c] = Math.max(width[c], r.get(c).length());
            }
        }
        List<String> out = new ArrayList<>(rows.size());
        for (List<String> r : rows) {
            StringBuilder sb = new StringBuilder(indent);
            for (int c = 0; c < r.size(); c++) {
                sb.append(r.get(c));
                if (c < r.size() - 1) {
                    sb.append(" ".repeat(width[c] - r.get(c).length() + 2));
                }
            }
            out.add(sb.toString());
        }
        return out;
    }
}
