package io.signalbox.protocol;

import static com.fasterxml.jackson.core.JsonToken.END_OBJECT;
import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NULL;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_FLOAT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT;
import static com.fasterxml.jackson.core.JsonToken.VALUE_STRING;

import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/**
 * The Jackson-based decoder that {@link LineDecoder} used before its single-pass scanner (issue
 * 12), kept unchanged as the reference: it decodes the long form (which it re-writes with a
 * Jackson generator), lines for a factory the scanner does not model (non-default parser
 * features, an input decorator, a document or token limit, a factory of another class), and the
 * differential test checks the scanner against it line by line.
 *
 * <p>The line is parsed once with Jackson's streaming parser, straight from the caller's bytes,
 * after {@link Utf8#firstInvalid} has checked it; its contract is {@link LineDecoder}'s.
 * Instances are stateless and thread-safe.
 */
final class JacksonLineDecoder {
    private static final int ERROR_DETAIL_MAX = 160;


    private final JsonFactory factory;

    /** A decoder over a shared, thread-safe factory (its read constraints apply, e.g. nesting depth). */
    JacksonLineDecoder(JsonFactory factory) {
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /** Decodes the whole array as one line. */
    DecodeResult decode(byte[] line) {
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
    DecodeResult decode(byte[] buf, int off, int len) {
        Objects.checkFromIndexSize(off, len, buf.length);
        int start = Lines.trimStart(buf, off, off + len);
        int end = Lines.trimEnd(buf, start, off + len);
        DecodeResult early = Lines.blankOrNotAnObject(buf, start, end);
        if (early != null) {
            return early;
        }
        int invalid = Utf8.firstInvalid(buf, start, end);
        if (invalid >= 0) {
            return DecodeResult.rejected(DropReason.MALFORMED, "invalid UTF-8 at byte " + (invalid - start));
        }
        LineScan s = new LineScan();
        try (JsonParser p = factory.createParser(buf, start, end - start)) {
            p.nextToken();
            JsonToken t;
            while ((t = p.nextToken()) == FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (s.error == null || "v".equals(name)) {
                    s.envelope(p, name, value);
                }
                p.skipChildren();
            }
            if (t != END_OBJECT || p.nextToken() != null) {
                return Lines.TRAILING;
            }
        } catch (JsonProcessingException e) {
            return malformed(e);
        } catch (IOException e) {
            return DecodeResult.rejected(DropReason.MALFORMED, shorten(String.valueOf(e.getMessage())));
        }
        return finish(buf, start, end, s);
    }

    private DecodeResult finish(byte[] buf, int start, int end, LineScan s) {
        if (s.versionUnsupported) {
            return Lines.UNSUPPORTED;
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
                        || (bad = s.time(LineScan.START, Field.START)) != null) {
                    return bad;
                }
                if (s.status != null && s.status != VALUE_STRING && s.status != VALUE_NULL) {
                    return Field.STATUS.badType;
                }
                long spanEnd;
                if ((s.times & LineScan.END) != 0) {
                    if ((bad = s.time(LineScan.END, Field.END)) != null) {
                        return bad;
                    }
                    spanEnd = s.endMs;
                } else if ((s.times & LineScan.DUR) != 0) {
                    if ((bad = s.time(LineScan.DUR, Field.DUR_MS)) != null) {
                        return bad;
                    }
                    spanEnd = s.startMs + s.durMs;
                } else {
                    return Lines.SPAN_END_MISSING;
                }
                span = new SpanInfo(s.nameText, s.statusText, s.startMs, spanEnd);
                break;
            default:
                break;
        }
        byte[] line;
        if (s.longForm) {
            try {
                line = LongForm.rewrite(factory, buf, start, end, s);
            } catch (IOException e) {
                return DecodeResult.rejected(DropReason.MALFORMED, shorten(String.valueOf(e.getMessage())));
            } catch (NumberFormatException e) {
                // copying a number exactly parses it: Jackson refuses exponents like E036854775808
                return DecodeResult.rejected(DropReason.MALFORMED, "number out of range: "
                        + shorten(String.valueOf(e.getMessage())));
            }
        } else {
            line = Arrays.copyOfRange(buf, start, end);
        }
        return DecodeResult.of(new Message(s.src, s.ts, type, s.tid, s.sid, s.pid, level, span, line));
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

    private static DecodeResult malformed(JsonProcessingException e) {
        String detail = e.getOriginalMessage();
        return DecodeResult.rejected(DropReason.MALFORMED, shorten(detail == null ? "invalid JSON" : detail));
    }

    private static String shorten(String detail) {
        int nl = detail.indexOf('\n');
        String first = nl < 0 ? detail : detail.substring(0, nl);
        return first.length() <= ERROR_DETAIL_MAX ? first : first.substring(0, ERROR_DETAIL_MAX) + "…";
    }

}
