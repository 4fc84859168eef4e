package io.signalbox.protocol;

import static com.fasterxml.jackson.core.JsonToken.END_OBJECT;
import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.START_OBJECT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NULL;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_FLOAT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_STRING;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Objects;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/**
 * Decodes one line of wire protocol v1 (DESIGN.md §2) into a {@link Message}.
 *
 * <p>The line is parsed once with Jackson's streaming parser, straight from the caller's bytes.
 * It must be exactly one JSON object; surrounding whitespace (space, tab, and so a trailing
 * {@code '\r'} of a {@code "\r\n"} terminator) is tolerated and trimmed. Required are {@code v}
 * (the integer 1), {@code src} (a non-empty string), {@code ts} (a non-negative integer, epoch
 * ms), {@code type} (a v1 type) and {@code data} (an object). {@code tid}, {@code sid} and
 * {@code pid} are optional strings; integers are accepted as their decimal text, {@code null}
 * and {@code ""} mean absent. {@code ctx} is an optional object. Other keys are kept in the line
 * and otherwise ignored. Minimal payload checks: an {@code event} needs {@code data.level} and
 * {@code data.msg} strings, a {@code metric} {@code data.name} (string) and {@code data.value}
 * (number), a {@code span} {@code data.name} (string), {@code data.start} and {@code data.end} or
 * {@code data.dur_ms} (numbers) and, if present, a string {@code data.status}.
 *
 * <p>For a line in the short form, {@link Message#line()} is an exact-size copy of the trimmed
 * line bytes: nothing is re-serialised. A line that uses any long-form name of the earlier
 * design ({@code source}, {@code timestamp} as ISO-8601 with offset or epoch ms, {@code trace_id},
 * {@code span_id}, {@code parent_span_id}) is accepted, and after validation re-written once
 * with a {@link JsonGenerator} into the short form: same key order, short names, {@code ts} as
 * epoch ms, and {@code "v":1} first if the line had no {@code v} (only a long-form line may omit
 * it).
 *
 * <p><b>Blank lines</b> (empty or whitespace only) give {@link DecodeResult#empty()}: they are
 * ignored silently and are not counted as dropped. Every other problem is a rejection:
 * {@link DropReason#MALFORMED} (not one JSON object, invalid UTF-8, trailing content, nesting
 * deeper than the factory's {@code StreamReadConstraints}, a field given twice),
 * {@link DropReason#UNSUPPORTED_VERSION} (takes precedence over everything but MALFORMED),
 * {@link DropReason#BAD_TYPE}, {@link DropReason#UNKNOWN_TYPE}, {@link DropReason#MISSING_FIELD}.
 * Line length is the framing transport's concern ({@link DropReason#TOO_LONG}).
 *
 * <p>Instances are stateless and thread-safe; share one per factory.
 */
public final class LineDecoder {
    private static final MessageType[] TYPES = MessageType.values();
    private static final int TYPE_DETAIL_MAX = 40;
    private static final int ERROR_DETAIL_MAX = 160;

    private static final DecodeResult NOT_AN_OBJECT =
            DecodeResult.rejected(DropReason.MALFORMED, "not a JSON object");
    private static final DecodeResult TRAILING =
            DecodeResult.rejected(DropReason.MALFORMED, "trailing content after the JSON object");
    private static final DecodeResult UNSUPPORTED =
            DecodeResult.rejected(DropReason.UNSUPPORTED_VERSION, "unsupported protocol version (supported: 1)");
    private static final DecodeResult TS_OUT_OF_RANGE =
            DecodeResult.rejected(DropReason.BAD_TYPE, "field 'ts' is out of range");
    private static final DecodeResult BAD_TIMESTAMP =
            DecodeResult.rejected(DropReason.BAD_TYPE, "field 'timestamp' is not an ISO-8601 date-time with offset");
    private static final DecodeResult SPAN_END_MISSING =
            DecodeResult.rejected(DropReason.MISSING_FIELD, "missing field 'data.end' or 'data.dur_ms'");

    private final JsonFactory factory;

    /** A decoder over a shared, thread-safe factory (its read constraints apply, e.g. nesting depth). */
    public LineDecoder(JsonFactory factory) {
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * A decoder with a factory of its own that builds UTF-8 byte parsers directly (no encoding
     * detection per line): the one to use on the hot path.
     */
    public LineDecoder() {
        this(new Utf8LineFactory());
    }

    /** Decodes the whole array as one line. */
    public DecodeResult decode(byte[] line) {
        return decode(line, 0, line.length);
    }

    /**
     * Decodes one line.
     *
     * @param buf bytes, UTF-8; not retained (a message gets its own copy)
     * @param off start of the line
     * @param len length of the line without its {@code '\n'} (a trailing {@code '\r'} is tolerated)
     * @return a message, a rejection, or {@link DecodeResult#empty()} for a blank line; never {@code null}
     */
    public DecodeResult decode(byte[] buf, int off, int len) {
        Objects.checkFromIndexSize(off, len, buf.length);
        int start = off;
        int end = off + len;
        while (start < end && isBlank(buf[start])) {
            start++;
        }
        while (end > start && isBlank(buf[end - 1])) {
            end--;
        }
        if (start == end) {
            return DecodeResult.empty();
        }
        if (buf[start] != '{') {
            return NOT_AN_OBJECT;
        }
        Scan s = new Scan();
        try (JsonParser p = factory.createParser(buf, start, end - start)) {
            p.nextToken();
            JsonToken t;
            while ((t = p.nextToken()) == FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (s.error == null || "v".equals(name)) {
                    envelopeField(p, name, value, s);
                }
                p.skipChildren();
            }
            if (t != END_OBJECT || p.nextToken() != null) {
                return TRAILING;
            }
        } catch (JsonProcessingException e) {
            return malformed(e);
        } catch (IOException e) {
            return DecodeResult.rejected(DropReason.MALFORMED, shorten(String.valueOf(e.getMessage())));
        }
        return finish(buf, start, end, s);
    }

    private DecodeResult finish(byte[] buf, int start, int end, Scan s) {
        if (s.versionUnsupported) {
            return UNSUPPORTED;
        }
        if (s.error != null) {
            return s.error;
        }
        int seen = s.seen;
        if ((seen & Field.V.bit) == 0 && !s.longForm) {
            return Field.V.missing;
        }
        if ((seen & Field.SRC.bit) == 0) {
            return Field.SRC.missing;
        }
        if ((seen & Field.TS.bit) == 0) {
            return Field.TS.missing;
        }
        if ((seen & Field.TYPE.bit) == 0) {
            return Field.TYPE.missing;
        }
        if ((seen & Field.DATA.bit) == 0) {
            return Field.DATA.missing;
        }
        MessageType type = s.type;
        String level = null;
        SpanInfo span = null;
        DecodeResult bad;
        switch (type) {
            case EVENT:
                if ((bad = requireString(s.level, Field.LEVEL)) != null
                        || (bad = requireString(s.msg, Field.MSG)) != null) {
                    return bad;
                }
                level = s.levelText;
                break;
            case METRIC:
                if ((bad = requireString(s.name, Field.NAME)) != null
                        || (bad = requireNumber(s.value, Field.VALUE)) != null) {
                    return bad;
                }
                break;
            case SPAN:
                if ((bad = requireString(s.name, Field.NAME)) != null
                        || (bad = requireNumber(s.start, Field.START)) != null) {
                    return bad;
                }
                if (s.status != null && s.status != VALUE_STRING && s.status != VALUE_NULL) {
                    return Field.STATUS.badType;
                }
                long spanEnd;
                if (s.end != null) {
                    if ((bad = requireNumber(s.end, Field.END)) != null) {
                        return bad;
                    }
                    spanEnd = s.endMs;
                } else if (s.dur != null) {
                    if ((bad = requireNumber(s.dur, Field.DUR_MS)) != null) {
                        return bad;
                    }
                    spanEnd = s.startMs + s.durMs;
                } else {
                    return SPAN_END_MISSING;
                }
                span = new SpanInfo(s.nameText, s.statusText, s.startMs, spanEnd);
                break;
            default:
                break;
        }
        byte[] line;
        if (s.longForm) {
            try {
                line = rewrite(buf, start, end, s);
            } catch (IOException e) {
                return DecodeResult.rejected(DropReason.MALFORMED, shorten(String.valueOf(e.getMessage())));
            }
        } else {
            line = Arrays.copyOfRange(buf, start, end);
        }
        return DecodeResult.of(new Message(s.src, s.ts, type, s.tid, s.sid, s.pid, level, span, line));
    }

    private static void envelopeField(JsonParser p, String name, JsonToken t, Scan s) throws IOException {
        switch (name) {
            case "v":
                if (s.mark(Field.V)) {
                    version(p, t, s);
                }
                break;
            case "src":
                if (s.mark(Field.SRC)) {
                    source(p, t, s, Field.SRC);
                }
                break;
            case "ts":
                if (s.mark(Field.TS)) {
                    epochMillis(p, t, s, Field.TS);
                }
                break;
            case "type":
                if (s.mark(Field.TYPE)) {
                    type(p, t, s);
                }
                break;
            case "data":
                if (s.mark(Field.DATA)) {
                    data(p, t, s);
                }
                break;
            case "tid":
                if (s.mark(Field.TID)) {
                    s.tid = id(p, t, s, Field.TID);
                }
                break;
            case "sid":
                if (s.mark(Field.SID)) {
                    s.sid = id(p, t, s, Field.SID);
                }
                break;
            case "pid":
                if (s.mark(Field.PID)) {
                    s.pid = id(p, t, s, Field.PID);
                }
                break;
            case "ctx":
                if (s.mark(Field.CTX) && t != START_OBJECT && t != VALUE_NULL) {
                    s.fail(Field.CTX.badType);
                }
                break;
            case "source":
                s.longForm = true;
                if (s.mark(Field.SOURCE)) {
                    source(p, t, s, Field.SOURCE);
                }
                break;
            case "timestamp":
                s.longForm = true;
                if (s.mark(Field.TIMESTAMP)) {
                    if (t == VALUE_STRING) {
                        isoTimestamp(p.getText(), s);
                    } else {
                        epochMillis(p, t, s, Field.TIMESTAMP);
                    }
                }
                break;
            case "trace_id":
                s.longForm = true;
                if (s.mark(Field.TRACE_ID)) {
                    s.tid = id(p, t, s, Field.TRACE_ID);
                }
                break;
            case "span_id":
                s.longForm = true;
                if (s.mark(Field.SPAN_ID)) {
                    s.sid = id(p, t, s, Field.SPAN_ID);
                }
                break;
            case "parent_span_id":
                s.longForm = true;
                if (s.mark(Field.PARENT_SPAN_ID)) {
                    s.pid = id(p, t, s, Field.PARENT_SPAN_ID);
                }
                break;
            default:
                break; // unknown keys are kept in the line and otherwise ignored
        }
    }

    private static void version(JsonParser p, JsonToken t, Scan s) throws IOException {
        if (t != VALUE_NUMBER_INT) {
            s.fail(Field.V.badType);
        } else if (p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() != 1) {
            s.versionUnsupported = true;
        }
    }

    private static void source(JsonParser p, JsonToken t, Scan s, Field field) throws IOException {
        if (t != VALUE_STRING || p.getTextLength() == 0) {
            s.fail(field.badType);
        } else {
            s.src = p.getText();
        }
    }

    private static void epochMillis(JsonParser p, JsonToken t, Scan s, Field field) throws IOException {
        if (t != VALUE_NUMBER_INT) {
            s.fail(field.badType);
        } else if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            s.fail(TS_OUT_OF_RANGE);
        } else {
            long ts = p.getLongValue();
            if (ts < 0) {
                s.fail(field.badType);
            } else {
                s.ts = ts;
            }
        }
    }

    private static void isoTimestamp(String text, Scan s) {
        try {
            long ts = DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(text, Instant::from).toEpochMilli();
            if (ts < 0) {
                s.fail(Field.TIMESTAMP.badType);
            } else {
                s.ts = ts;
            }
        } catch (DateTimeException | ArithmeticException e) {
            // DateTimeParseException is a DateTimeException; the detail is our constant
            s.fail(BAD_TIMESTAMP);
        }
    }

    private static void type(JsonParser p, JsonToken t, Scan s) throws IOException {
        if (t != VALUE_STRING) {
            s.fail(Field.TYPE.badType);
            return;
        }
        MessageType type = typeOf(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        if (type == null) {
            String text = p.getText();
            if (text.length() > TYPE_DETAIL_MAX) {
                text = text.substring(0, TYPE_DETAIL_MAX) + "…";
            }
            s.fail(DecodeResult.rejected(DropReason.UNKNOWN_TYPE, "unknown type '" + text + "'"));
        } else {
            s.type = type;
        }
    }

    /** Matches a v1 type name without allocating a String. */
    static MessageType typeOf(char[] chars, int off, int len) {
        for (MessageType type : TYPES) {
            String wire = type.wireName();
            if (wire.length() == len) {
                int i = 0;
                while (i < len && chars[off + i] == wire.charAt(i)) {
                    i++;
                }
                if (i == len) {
                    return type;
                }
            }
        }
        return null;
    }

    private static String id(JsonParser p, JsonToken t, Scan s, Field field) throws IOException {
        if (t == VALUE_STRING) {
            return p.getTextLength() == 0 ? null : p.getText();
        } else if (t == VALUE_NUMBER_INT) {
            return p.getText();
        } else if (t != VALUE_NULL) {
            s.fail(field.badType);
        }
        return null;
    }

    /** Scans {@code data} once, noting the payload fields every type might need. */
    private static void data(JsonParser p, JsonToken t, Scan s) throws IOException {
        if (t != START_OBJECT) {
            s.fail(Field.DATA.badType);
            return;
        }
        MessageType type = s.type; // null if "type" comes after "data": then keep every candidate
        boolean event = type == null || type == MessageType.EVENT;
        boolean span = type == null || type == MessageType.SPAN;
        while (p.nextToken() == FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (name) {
                case "level":
                    s.level = v;
                    if (v == VALUE_STRING && event) {
                        s.levelText = p.getText();
                    }
                    break;
                case "msg":
                    s.msg = v;
                    break;
                case "name":
                    s.name = v;
                    if (v == VALUE_STRING && span) {
                        s.nameText = p.getText();
                    }
                    break;
                case "value":
                    s.value = v;
                    break;
                case "status":
                    s.status = v;
                    if (v == VALUE_STRING && span) {
                        s.statusText = p.getText();
                    }
                    break;
                case "start":
                    if (span) {
                        s.start = number(p, v, s);
                        s.startMs = s.number;
                    }
                    break;
                case "end":
                    if (span) {
                        s.end = number(p, v, s);
                        s.endMs = s.number;
                    }
                    break;
                case "dur_ms":
                    if (span) {
                        s.dur = number(p, v, s);
                        s.durMs = s.number;
                    }
                    break;
                default:
                    break;
            }
            p.skipChildren();
        }
    }

    /**
     * Reads a number (floats are floored) into {@code s.number}; returns the token, or
     * {@link JsonToken#NOT_AVAILABLE} for an integer too large for a long, so that it fails the
     * number check.
     */
    private static JsonToken number(JsonParser p, JsonToken v, Scan s) throws IOException {
        if (v == VALUE_NUMBER_INT) {
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                return JsonToken.NOT_AVAILABLE;
            }
            s.number = p.getLongValue();
        } else if (v == VALUE_NUMBER_FLOAT) {
            s.number = (long) Math.floor(p.getDoubleValue());
        }
        return v;
    }

    private static DecodeResult requireString(JsonToken t, Field field) {
        if (t == null) {
            return field.missing;
        }
        return t == VALUE_STRING ? null : field.badType;
    }

    private static DecodeResult requireNumber(JsonToken t, Field field) {
        if (t == null) {
            return field.missing;
        }
        return t == VALUE_NUMBER_INT || t == VALUE_NUMBER_FLOAT ? null : field.badType;
    }

    /** Writes a validated long-form line in the short form (same key order). */
    private byte[] rewrite(byte[] buf, int start, int end, Scan s) throws IOException {
        ByteArrayBuilder out = new ByteArrayBuilder(null, end - start + 16);
        try (JsonParser p = factory.createParser(buf, start, end - start);
                JsonGenerator g = factory.createGenerator(out)) {
            p.nextToken();
            g.writeStartObject();
            if ((s.seen & Field.V.bit) == 0) {
                g.writeFieldName("v");
                g.writeNumber(1);
            }
            while (p.nextToken() == FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "timestamp":
                        g.writeFieldName("ts");
                        g.writeNumber(s.ts);
                        break;
                    case "source":
                        g.writeFieldName("src");
                        g.copyCurrentStructureExact(p);
                        break;
                    case "trace_id":
                        g.writeFieldName("tid");
                        g.copyCurrentStructureExact(p);
                        break;
                    case "span_id":
                        g.writeFieldName("sid");
                        g.copyCurrentStructureExact(p);
                        break;
                    case "parent_span_id":
                        g.writeFieldName("pid");
                        g.copyCurrentStructureExact(p);
                        break;
                    default:
                        g.writeFieldName(name);
                        g.copyCurrentStructureExact(p);
                        break;
                }
            }
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static DecodeResult malformed(JsonProcessingException e) {
        String detail = e.getOriginalMessage();
        return DecodeResult.rejected(DropReason.MALFORMED, shorten(detail == null ? "invalid JSON" : detail));
    }

    private static String shorten(String detail) {
        int nl = detail.indexOf('\n');
        String first = nl < 0 ? detail : detail.substring(0, nl);
        return first.length() <= ERROR_DETAIL_MAX ? first : first.substring(0, ERROR_DETAIL_MAX) + "…";
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    /** Per-call scratch state of one decode. */
    private static final class Scan {
        int seen;
        boolean longForm;
        boolean versionUnsupported;
        DecodeResult error;

        String src;
        long ts;
        MessageType type;
        String tid;
        String sid;
        String pid;

        JsonToken level;
        JsonToken msg;
        JsonToken name;
        JsonToken value;
        JsonToken status;
        JsonToken start;
        JsonToken end;
        JsonToken dur;
        String levelText;
        String nameText;
        String statusText;
        long startMs;
        long endMs;
        long durMs;
        long number;

        /** Marks an envelope field as seen; a second occurrence (under either name) is a failure. */
        boolean mark(Field field) {
            if ((seen & field.bit) != 0) {
                fail(field.duplicate);
                return false;
            }
            seen |= field.bit;
            return true;
        }

        void fail(DecodeResult result) {
            if (error == null) {
                error = result;
            }
        }
    }
}
