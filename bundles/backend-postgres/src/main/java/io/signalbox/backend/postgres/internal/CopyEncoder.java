package io.signalbox.backend.postgres.internal;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/**
 * Turns a batch into the bodies of two {@code COPY ... FROM STDIN} statements in PostgreSQL's
 * text format: one row per message for the events table
 * ({@code ts, src, type, tid, sid, pid, ctx, data}) and one row per metric message for the
 * metrics table ({@code ts, src, name, value, unit, tags}).
 *
 * <p>The envelope comes from the decoded {@link Message}; {@code ctx}, {@code data} and the
 * metric fields are found in the raw line with one streaming pass of Jackson, and the JSON of
 * {@code ctx}, {@code data} and {@code tags} is copied byte for byte from the line (never
 * re-serialised). Text-format escaping: backslash, tab, newline and carriage return are escaped,
 * {@code \N} is NULL. What PostgreSQL would refuse and so poison the whole batch is replaced by
 * U+FFFD: NUL characters in text, {@code \u0000} escapes and unpaired surrogate escapes in
 * JSON ({@code jsonb} rejects them). Timestamps outside years 1…9999 become
 * {@code -infinity}/{@code infinity}.
 *
 * <p>Not thread-safe: one per backend, used under its write lock; the buffers are reused.
 */
final class CopyEncoder {
    private static final long MS_PER_DAY = 86_400_000L;
    /** 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch ms. */
    private static final long MIN_MS = -62_135_596_800_000L;
    private static final long MAX_MS = 253_402_300_800_000L;

    private final JsonFactory json;
    final ByteBuf events = new ByteBuf(64 * 1024);
    final ByteBuf metrics = new ByteBuf(8 * 1024);
    private int metricRows;
    private int unparsed;
    private int metricsWithoutValue;

    // per-message scan results (offsets into the line; -1 = absent)
    private int ctxStart;
    private int ctxEnd;
    private int dataStart;
    private int dataEnd;
    private int tagsStart;
    private int tagsEnd;
    private String metricName;
    private String metricUnit;
    private boolean hasValue;
    private double metricValue;
    private String scalarCtx;
    private String scalarData;

    CopyEncoder(JsonFactory json) {
        this.json = json;
    }

    /** Rows for the metrics table in the last {@link #encode}. */
    int metricRows() {
        return metricRows;
    }

    /** Lines of the last batch that Jackson could not read ({@code ctx}/{@code data} written as NULL). */
    int unparsed() {
        return unparsed;
    }

    /** Metric messages of the last batch without a numeric {@code data.value} (no metrics row). */
    int metricsWithoutValue() {
        return metricsWithoutValue;
    }

    /** Encodes a batch into {@link #events} and {@link #metrics}, replacing their previous content. */
    void encode(List<Message> messages) {
        events.reset();
        metrics.reset();
        metricRows = 0;
        unparsed = 0;
        metricsWithoutValue = 0;
        for (int i = 0, n = messages.size(); i < n; i++) {
            encode(messages.get(i));
        }
    }

    private void encode(Message m) {
        boolean metric = m.type() == MessageType.METRIC;
        byte[] line = m.line();
        scan(line, metric);

        ByteBuf e = events;
        timestamp(e, m.timestamp());
        e.put((byte) '\t');
        text(e, m.source());
        e.put((byte) '\t');
        e.ascii(m.type().wireName());
        e.put((byte) '\t');
        text(e, m.traceId());
        e.put((byte) '\t');
        text(e, m.spanId());
        e.put((byte) '\t');
        text(e, m.parentSpanId());
        e.put((byte) '\t');
        jsonColumn(e, line, ctxStart, ctxEnd, scalarCtx);
        e.put((byte) '\t');
        jsonColumn(e, line, dataStart, dataEnd, scalarData);
        e.put((byte) '\n');

        if (metric) {
            if (metricName == null || !hasValue) {
                metricsWithoutValue++;
                return;
            }
            ByteBuf r = metrics;
            timestamp(r, m.timestamp());
            r.put((byte) '\t');
            text(r, m.source());
            r.put((byte) '\t');
            text(r, metricName);
            r.put((byte) '\t');
            r.ascii(Double.isFinite(metricValue) ? Double.toString(metricValue)
                    : Double.isNaN(metricValue) ? "NaN" : metricValue > 0 ? "Infinity" : "-Infinity");
            r.put((byte) '\t');
            text(r, metricUnit);
            r.put((byte) '\t');
            jsonColumn(r, line, tagsStart, tagsEnd, null);
            r.put((byte) '\n');
            metricRows++;
        }
    }

    /** One streaming pass over the line: where ctx, data (and for metrics name/value/unit/tags) are. */
    private void scan(byte[] line, boolean metric) {
        ctxStart = ctxEnd = dataStart = dataEnd = tagsStart = tagsEnd = -1;
        metricName = metricUnit = scalarCtx = scalarData = null;
        hasValue = false;
        try (JsonParser p = json.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                unparsed++;
                return;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if ("ctx".equals(field)) {
                    if (t.isStructStart()) {
                        ctxStart = offset(p);
                        p.skipChildren();
                        ctxEnd = offset(p) + 1;
                    } else {
                        scalarCtx = scalarJson(p, t);
                    }
                } else if ("data".equals(field)) {
                    if (t == JsonToken.START_OBJECT && metric) {
                        dataStart = offset(p);
                        scanMetric(p);
                        dataEnd = offset(p) + 1;
                    } else if (t.isStructStart()) {
                        dataStart = offset(p);
                        p.skipChildren();
                        dataEnd = offset(p) + 1;
                    } else {
                        scalarData = scalarJson(p, t);
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            // the protocol bundle validated the line, so this is not expected; the envelope is still written
            ctxStart = ctxEnd = dataStart = dataEnd = tagsStart = tagsEnd = -1;
            scalarCtx = scalarData = null;
            hasValue = false;
            unparsed++;
        }
    }

    private void scanMetric(JsonParser p) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            switch (field) {
                case "name":
                    metricName = t == JsonToken.VALUE_STRING ? p.getText() : metricName;
                    break;
                case "value":
                    if (t.isNumeric()) {
                        metricValue = p.getDoubleValue();
                        hasValue = true;
                    }
                    break;
                case "unit":
                    metricUnit = t == JsonToken.VALUE_STRING ? p.getText() : metricUnit;
                    break;
                case "tags":
                    if (t == JsonToken.START_OBJECT) {
                        tagsStart = offset(p);
                        p.skipChildren();
                        tagsEnd = offset(p) + 1;
                    }
                    break;
                default:
                    p.skipChildren();
            }
        }
    }

    private static int offset(JsonParser p) {
        return (int) p.currentTokenLocation().getByteOffset();
    }

    /** JSON text of a scalar ctx/data (unusual), or null for JSON null. */
    private static String scalarJson(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case VALUE_NULL:
                return null;
            case VALUE_STRING: {
                String s = p.getText();
                StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '"' || c == '\\') {
                        sb.append('\\').append(c);
                    } else if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
                return sb.append('"').toString();
            }
            default:
                return p.getText();
        }
    }

    private static void jsonColumn(ByteBuf out, byte[] line, int start, int end, String scalar) {
        if (start >= 0) {
            jsonBytes(out, line, start, end);
        } else if (scalar != null) {
            text(out, scalar);
        } else {
            out.put('\\', 'N');
        }
    }

    /** Raw JSON bytes, COPY-escaped; {@code \u0000} and unpaired surrogate escapes become {@code \ufffd}. */
    static void jsonBytes(ByteBuf out, byte[] b, int start, int end) {
        out.ensure((end - start) + 16);
        int i = start;
        while (i < end) {
            byte c = b[i];
            if (c == '\\' && i + 1 < end) {
                byte next = b[i + 1];
                if (next == 'u' && i + 6 <= end) {
                    int cp = hex4(b, i + 2);
                    int len = 6;
                    boolean bad = cp == 0;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        int low = i + 12 <= end && b[i + 6] == '\\' && b[i + 7] == 'u' ? hex4(b, i + 8) : -1;
                        if (low >= 0xDC00 && low <= 0xDFFF) {
                            len = 12;
                        } else {
                            bad = true;
                        }
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        bad = true;
                    }
                    if (bad) {
                        out.ensure(7);
                        out.put('\\', '\\');
                        out.ascii("ufffd");
                    } else {
                        out.ensure(len * 2);
                        for (int k = 0; k < len; k++) {
                            escapeByte(out, b[i + k]);
                        }
                    }
                    i += len;
                    continue;
                }
                out.put('\\', '\\');
                escapeByte(out, next);
                i += 2;
                continue;
            }
            escapeByte(out, c);
            i++;
        }
    }

    private static int hex4(byte[] b, int at) {
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(b[at + k], 16);
            if (d < 0) {
                return -1;
            }
            v = (v << 4) | d;
        }
        return v;
    }

    private static void escapeByte(ByteBuf out, byte c) {
        switch (c) {
            case '\\' -> out.put('\\', '\\');
            case '\t' -> out.put('\\', 't');
            case '\n' -> out.put('\\', 'n');
            case '\r' -> out.put('\\', 'r');
            default -> out.put(c);
        }
    }

    /** A text column: UTF-8, COPY-escaped, NUL and unpaired surrogates → U+FFFD; {@code null} → {@code \N}. */
    static void text(ByteBuf out, String s) {
        if (s == null) {
            out.put('\\', 'N');
            return;
        }
        int n = s.length();
        out.ensure(n * 3 + 4);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c == 0) {
                    replacement(out);
                } else {
                    escapeByte(out, (byte) c);
                }
            } else if (c < 0x800) {
                out.put(0xC0 | (c >> 6), 0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                out.ensure(4);
                out.put(0xF0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3F));
                out.put(0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                replacement(out);
            } else {
                out.put(0xE0 | (c >> 12), 0x80 | ((c >> 6) & 0x3F));
                out.put((byte) (0x80 | (c & 0x3F)));
            }
        }
    }

    private static void replacement(ByteBuf out) {
        out.put(0xEF, 0xBF);
        out.put((byte) 0xBD);
    }

    /** {@code YYYY-MM-DD HH:MM:SS.mmm+00} without java.time allocations. */
    static void timestamp(ByteBuf out, long ms) {
        if (ms < MIN_MS) {
            out.ascii("-infinity");
            return;
        }
        if (ms >= MAX_MS) {
            out.ascii("infinity");
            return;
        }
        long days = Math.floorDiv(ms, MS_PER_DAY);
        int msOfDay = (int) Math.floorMod(ms, MS_PER_DAY);
        // civil_from_days (H. Hinnant)
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long y = yoe + era * 400;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int d = (int) (doy - (153 * mp + 2) / 5 + 1);
        int mo = (int) (mp < 10 ? mp + 3 : mp - 9);
        int year = (int) (mo <= 2 ? y + 1 : y);
        out.ensure(26);
        digits(out, year / 100);
        digits(out, year % 100);
        out.put((byte) '-');
        digits(out, mo);
        out.put((byte) '-');
        digits(out, d);
        out.put((byte) ' ');
        int sec = msOfDay / 1000;
        digits(out, sec / 3600);
        out.put((byte) ':');
        digits(out, (sec / 60) % 60);
        out.put((byte) ':');
        digits(out, sec % 60);
        out.put((byte) '.');
        int milli = msOfDay % 1000;
        out.put((byte) ('0' + milli / 100));
        digits(out, milli % 100);
        out.put('+', '0');
        out.put((byte) '0');
    }

    private static void digits(ByteBuf out, int two) {
        out.put('0' + two / 10, '0' + two % 10);
    }
}
