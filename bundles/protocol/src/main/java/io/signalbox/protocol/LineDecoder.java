package io.signalbox.protocol;

import java.util.Objects;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;

/**
 * Decodes one line of wire protocol v1 (DESIGN.md §2) into a {@link Message}.
 *
 * <p>The line must be exactly one JSON object (RFC 8259, as strictly as Jackson reads it with
 * default features) in valid UTF-8; surrounding whitespace (space, tab, and so a trailing
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
 * with a Jackson generator into the short form: same key order, short names, {@code ts} as
 * epoch ms, and {@code "v":1} first if the line had no {@code v} (only a long-form line may omit
 * it).
 *
 * <p>A short-form line is read in one pass by a hand-written scanner ({@code ShortFormScan} over
 * {@code JsonCursor}), which checks the syntax, the UTF-8 and the factory's
 * {@code StreamReadConstraints} (nesting depth, number, string and name lengths) as Jackson
 * does, and reads the envelope and the payload fields on the way; no parser is created. The
 * Jackson-based decoder it replaced ({@code JacksonLineDecoder}) decodes the long form (the scan
 * hands a line over at its first top-level long-form name) and every line of a factory whose
 * reading the scanner does not model (non-default parser features, an input decorator, a
 * document-length or token-count limit, a class other than {@link JsonFactory}); a differential
 * test holds both to the same results.
 *
 * <p><b>Blank lines</b> (empty or whitespace only) give {@link DecodeResult#empty()}: they are
 * ignored silently and are not counted as dropped. Every other problem is a rejection:
 * {@link DropReason#MALFORMED} (not one JSON object, invalid UTF-8, trailing content, nesting
 * deeper than the factory's {@code StreamReadConstraints}, a field given twice),
 * {@link DropReason#UNSUPPORTED_VERSION} (takes precedence over everything but MALFORMED),
 * {@link DropReason#BAD_TYPE}, {@link DropReason#UNKNOWN_TYPE}, {@link DropReason#MISSING_FIELD}.
 * Line length is the framing transport's concern ({@link DropReason#TOO_LONG}).
 *
 * <p>Instances are stateless and thread-safe; share one per factory. A transport that reads a
 * connection's lines on one thread at a time decodes them with {@link #forConnection()}: the same
 * decoding, with the scanner's scratch state reused from line to line instead of made per line,
 * and the last {@code src} remembered (a connection that keeps sending as one source gets the same
 * {@code String} for it, with no allocation).
 */
public final class LineDecoder {
    private static final int DEFAULT_PARSER_FEATURES = JsonParser.Feature.collectDefaults();

    private final JacksonLineDecoder reference;
    /** The factory's limits, or {@code null} if every line goes to the reference. */
    private final ScanLimits limits;
    /** The factory sniffs UTF-16/32 from the first bytes: a line starting {@code "{\0"} is the reference's. */
    private final boolean sniffsEncoding;

    /** A decoder over a shared, thread-safe factory (its read constraints apply, e.g. nesting depth). */
    public LineDecoder(JsonFactory factory) {
        this.reference = new JacksonLineDecoder(Objects.requireNonNull(factory, "factory"));
        this.limits = scannable(factory) ? ScanLimits.of(factory.streamReadConstraints()) : null;
        this.sniffsEncoding = !(factory instanceof Utf8LineFactory) && factory.isEnabled(JsonFactory.Feature.CHARSET_DETECTION);
    }

    /**
     * A decoder with a factory of its own that builds UTF-8 byte parsers directly (no encoding
     * detection per line), for the long form: the one to use on the hot path.
     */
    public LineDecoder() {
        this(new Utf8LineFactory());
    }

    /** Whether the factory reads JSON as the scanner does: default JSON, no decorator, only the limits the scanner applies. */
    private static boolean scannable(JsonFactory factory) {
        StreamReadConstraints c = factory.streamReadConstraints();
        return (factory.getClass() == JsonFactory.class || factory.getClass() == Utf8LineFactory.class)
                && factory.getInputDecorator() == null
                && factory.getParserFeatures() == DEFAULT_PARSER_FEATURES
                && c.getMaxDocumentLength() < 0 && c.getMaxTokenCount() < 0;
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
        return decode(buf, off, len, null);
    }

    /**
     * A decoder of this one's lines for one connection (or any one reader): not thread-safe, it
     * reuses its scratch state from line to line and remembers the last {@code src}.
     */
    public ConnectionDecoder forConnection() {
        return new ConnectionDecoder(this, limits == null ? null : new ShortFormScan(limits, true));
    }

    /** {@link #decode(byte[], int, int)} with {@code scan} if not {@code null}, else a scanner of its own. */
    DecodeResult decode(byte[] buf, int off, int len, ShortFormScan scan) {
        Object r = decodeLine(buf, off, len, scan);
        return r instanceof Message m ? DecodeResult.of(m) : (DecodeResult) r;
    }

    /**
     * Decodes one line with {@code scan} if not {@code null}, else a scanner of its own.
     *
     * @return the {@link Message} of a short-form line as it is, else a {@link DecodeResult} (a
     *         rejection, {@link DecodeResult#empty()}, or the reference's result for the long form)
     */
    Object decodeLine(byte[] buf, int off, int len, ShortFormScan scan) {
        Objects.checkFromIndexSize(off, len, buf.length);
        if (limits == null) {
            return reference.decode(buf, off, len);
        }
        int start = Lines.trimStart(buf, off, off + len);
        int end = Lines.trimEnd(buf, start, off + len);
        DecodeResult early = Lines.blankOrNotAnObject(buf, start, end);
        if (early != null) {
            return early;
        }
        if (sniffsEncoding && end - start > 1 && buf[start + 1] == 0) {
            return reference.decode(buf, off, len); // read as UTF-16 or UTF-32 by such a factory
        }
        Object r = (scan != null ? scan : new ShortFormScan(limits)).scan(buf, start, end);
        return r != null ? r : reference.decode(buf, off, len);
    }

}
