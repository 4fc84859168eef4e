package io.signalbox.protocol;

import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.START_OBJECT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NULL;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_FLOAT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_STRING;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import io.signalbox.api.DropReason;
import io.signalbox.api.MessageType;

/**
 * What {@link LineDecoder} learns in its one pass over a line: the envelope fields, the payload
 * fields the line's type may need, and the first problem met. The readers are called as the
 * parser reaches each field, read it in place (no tree, no String unless the value is kept) and
 * leave the checks that need the whole line (required fields, payload per type) to the decoder.
 * Scratch state of one decode: created per line, never shared.
 */
final class LineScan extends FieldTally {
    /** Bits of {@link #times} and {@link #numericTimes}: a span's time fields in {@code data}. */
    static final int START = 1;
    static final int END = 2;
    static final int DUR = 4;

    private static final MessageType[] TYPES = MessageType.values();
    private static final int TYPE_DETAIL_MAX = 40;
    private static final DecodeResult TS_OUT_OF_RANGE =
            DecodeResult.rejected(DropReason.BAD_TYPE, "field 'ts' is out of range");

    /** A long-form name was used: the line is rewritten in the short form ({@link LongForm}). */
    boolean longForm;
    boolean versionUnsupported;

    String src;
    long ts;
    MessageType type;
    String tid;
    String sid;
    String pid;

    /** Payload fields: the token of each ({@code null} if absent) and the texts a message keeps. */
    JsonToken level;
    JsonToken msg;
    JsonToken name;
    JsonToken value;
    JsonToken status;
    String levelText;
    String nameText;
    String statusText;
    /** Span times present ({@link #START}, {@link #END}, {@link #DUR} bits) and those given as numbers. */
    int times;
    int numericTimes;
    long startMs;
    long endMs;
    long durMs;

    /** Reads one top-level field; unknown keys are kept in the line and otherwise ignored. */
    void envelope(JsonParser p, String key, JsonToken t) throws IOException {
        switch (key) {
            case "v" -> version(p, t);
            case "src" -> source(p, t, Field.SRC);
            case "ts" -> epochMillis(p, t, Field.TS);
            case "type" -> type(p, t);
            case "data" -> data(p, t);
            case "tid" -> tid = id(p, t, Field.TID);
            case "sid" -> sid = id(p, t, Field.SID);
            case "pid" -> pid = id(p, t, Field.PID);
            case "ctx" -> context(t);
            case "source" -> source(p, t, longForm(Field.SOURCE));
            case "timestamp" -> LongForm.timestamp(p, t, this);
            case "trace_id" -> tid = id(p, t, longForm(Field.TRACE_ID));
            case "span_id" -> sid = id(p, t, longForm(Field.SPAN_ID));
            case "parent_span_id" -> pid = id(p, t, longForm(Field.PARENT_SPAN_ID));
            default -> {
                // not an envelope field
            }
        }
    }


    /** {@code null} if span time {@code bit} was given as a number, else its rejection. */
    DecodeResult time(int bit, Field field) {
        if ((times & bit) == 0) {
            return field.missing;
        }
        return (numericTimes & bit) == 0 ? field.badType : null;
    }

    private Field longForm(Field field) {
        longForm = true;
        return field;
    }

    private void version(JsonParser p, JsonToken t) throws IOException {
        if (accept(Field.V, t == VALUE_NUMBER_INT)
                && (p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() != 1)) {
            versionUnsupported = true;
        }
    }

    private void source(JsonParser p, JsonToken t, Field field) throws IOException {
        if (accept(field, t == VALUE_STRING && p.getTextLength() > 0)) {
            src = p.getText();
        }
    }

    /** {@code ts}, or a long-form {@code timestamp} given as epoch ms. */
    void epochMillis(JsonParser p, JsonToken t, Field field) throws IOException {
        if (!accept(field, t == VALUE_NUMBER_INT)) {
            return;
        }
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            fail(TS_OUT_OF_RANGE);
        } else {
            long millis = p.getLongValue();
            if (millis < 0) {
                fail(field.badType);
            } else {
                ts = millis;
            }
        }
    }

    private void type(JsonParser p, JsonToken t) throws IOException {
        if (!accept(Field.TYPE, t == VALUE_STRING)) {
            return;
        }
        MessageType known = typeOf(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        if (known == null) {
            String text = p.getText();
            if (text.length() > TYPE_DETAIL_MAX) {
                text = text.substring(0, TYPE_DETAIL_MAX) + "…";
            }
            fail(DecodeResult.rejected(DropReason.UNKNOWN_TYPE, "unknown type '" + text + "'"));
        } else {
            type = known;
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

    /** A trace, span or parent id: a string or an integer's text; {@code null} and {@code ""} mean absent. */
    private String id(JsonParser p, JsonToken t, Field field) throws IOException {
        if (!mark(field)) {
            return null; // the line is rejected as a duplicate
        }
        if (t == VALUE_STRING) {
            return p.getTextLength() == 0 ? null : p.getText();
        } else if (t == VALUE_NUMBER_INT) {
            return p.getText();
        } else if (t != VALUE_NULL) {
            fail(field.badType);
        }
        return null;
    }

    private void context(JsonToken t) {
        accept(Field.CTX, t == START_OBJECT || t == VALUE_NULL);
    }

    /** Scans {@code data} once, noting the payload fields every type might need. */
    private void data(JsonParser p, JsonToken t) throws IOException {
        if (!accept(Field.DATA, t == START_OBJECT)) {
            return;
        }
        boolean event = type == null || type == MessageType.EVENT; // type may come after data
        boolean span = type == null || type == MessageType.SPAN;
        while (p.nextToken() == FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case "level" -> levelText = text(p, level = v, event);
                case "msg" -> msg = v;
                case "name" -> nameText = text(p, name = v, span);
                case "value" -> value = v;
                case "status" -> statusText = text(p, status = v, span);
                case "start" -> startMs = span ? time(p, v, START) : 0;
                case "end" -> endMs = span ? time(p, v, END) : 0;
                case "dur_ms" -> durMs = span ? time(p, v, DUR) : 0;
                default -> {
                    // other payload fields are kept in the line
                }
            }
            p.skipChildren();
        }
    }

    /** The text of a string value the message keeps ({@code wanted}), else {@code null}. */
    private static String text(JsonParser p, JsonToken v, boolean wanted) throws IOException {
        return wanted && v == VALUE_STRING ? p.getText() : null;
    }

    /** A span time in ms (floats are floored); an integer too large for a long is not a number here. */
    private long time(JsonParser p, JsonToken v, int bit) throws IOException {
        times |= bit;
        if (v == VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
            numericTimes |= bit;
            return p.getLongValue();
        }
        if (v == VALUE_NUMBER_FLOAT) {
            numericTimes |= bit;
            return (long) Math.floor(p.getDoubleValue());
        }
        numericTimes &= ~bit;
        return 0;
    }
}
