package io.signalbox.protocol;

import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.VALUE_STRING;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;

import io.signalbox.api.DropReason;

/**
 * The long form of the earlier design ({@code source}, {@code timestamp} as ISO-8601 with offset
 * or epoch ms, {@code trace_id}, {@code span_id}, {@code parent_span_id}): its timestamp, and
 * the one rewrite of a validated long-form line into the short form. Off the hot path: a
 * short-form line never gets here.
 */
final class LongForm {
    private static final DecodeResult BAD_TIMESTAMP =
            DecodeResult.rejected(DropReason.BAD_TYPE, "field 'timestamp' is not an ISO-8601 date-time with offset");

    private LongForm() {
    }

    /** Reads {@code timestamp}: an ISO-8601 date-time with offset, or epoch ms. */
    static void timestamp(JsonParser p, JsonToken t, LineScan s) throws IOException {
        s.longForm = true;
        if (t != VALUE_STRING) {
            s.epochMillis(p, t, Field.TIMESTAMP);
        } else if (s.mark(Field.TIMESTAMP)) {
            try {
                long ts = DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(p.getText(), Instant::from).toEpochMilli();
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
    }

    /**
     * Writes a validated long-form line in the short form: same key order, short names, {@code ts}
     * as epoch ms, and {@code "v":1} first if the line had no {@code v}.
     */
    static byte[] rewrite(JsonFactory factory, byte[] buf, int start, int end, LineScan s) throws IOException {
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
                if (name.equals("timestamp")) {
                    g.writeFieldName("ts");
                    g.writeNumber(s.ts);
                } else {
                    g.writeFieldName(shortName(name));
                    g.copyCurrentStructureExact(p);
                }
            }
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static String shortName(String name) {
        return switch (name) {
            case "source" -> "src";
            case "trace_id" -> "tid";
            case "span_id" -> "sid";
            case "parent_span_id" -> "pid";
            default -> name;
        };
    }
}
