package io.signalbox.protocol;

import static io.signalbox.protocol.Swar.LONGS;
import static io.signalbox.protocol.WireNames.D_DUR;
import static io.signalbox.protocol.WireNames.D_END;
import static io.signalbox.protocol.WireNames.D_LEVEL;
import static io.signalbox.protocol.WireNames.D_MSG;
import static io.signalbox.protocol.WireNames.D_NAME;
import static io.signalbox.protocol.WireNames.D_START;
import static io.signalbox.protocol.WireNames.D_STATUS;
import static io.signalbox.protocol.WireNames.D_VALUE;
import static io.signalbox.protocol.WireNames.K_CTX;
import static io.signalbox.protocol.WireNames.K_DATA;
import static io.signalbox.protocol.WireNames.K_LONG_FORM;
import static io.signalbox.protocol.WireNames.K_PID;
import static io.signalbox.protocol.WireNames.K_SID;
import static io.signalbox.protocol.WireNames.K_SRC;
import static io.signalbox.protocol.WireNames.K_TID;
import static io.signalbox.protocol.WireNames.K_TS;
import static io.signalbox.protocol.WireNames.K_TYPE;
import static io.signalbox.protocol.WireNames.K_V;

import java.util.Arrays;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;

/**
 * The single pass of {@link LineDecoder} over a short-form line: the top-level object and its
 * {@code data} object are walked here, field by field, with {@link JsonCursor} underneath for
 * the syntax, and the same field rules as the Jackson reference ({@link JacksonLineDecoder},
 * {@link LineScan}): the first problem wins, only {@code v} is still read after one, an envelope
 * field given twice is malformed, {@code data} fields are read for the types the line may have
 * (its {@code type} may come later), and a string is turned into a {@code String} only where the
 * message keeps it. A top-level long-form name stops the scan: such lines are the reference's.
 *
 * <p>Scratch state of one decode at a time, never shared between threads. A scanner made
 * {@linkplain #ShortFormScan(ScanLimits, boolean) for a connection} is reused for all its lines
 * and remembers the last {@code src}: a line whose {@code src} has the same bytes (escapes and all)
 * as the last one gets the same {@code String} (the text is a function of the bytes and of the
 * limits, which do not change), so a connection that sends as one source allocates no string for it.
 * Other sources' names, and span names, come from a process-wide bounded table ({@link SharedTexts}):
 * all messages of a source share one {@code String} even when a connection sends for thousands
 * of sources in turn.
 */
final class ShortFormScan extends JsonValues {
    private static final int TYPE_DETAIL_MAX = 40;
    private static final DecodeResult TS_OUT_OF_RANGE =
            DecodeResult.rejected(DropReason.BAD_TYPE, "field 'ts' is out of range");

    private static final Field[] REQUIRED = {Field.V, Field.SRC, Field.TS, Field.TYPE, Field.DATA};
    private static final int REQUIRED_BITS = Field.V.bit | Field.SRC.bit | Field.TS.bit | Field.TYPE.bit | Field.DATA.bit;

    private static final MessageType[] TYPES = MessageType.values();
    private static final int EVENT_TYPE = MessageType.EVENT.ordinal() + 1;
    private static final int SPAN_TYPE = MessageType.SPAN.ordinal() + 1;

    /** Bits of {@link #times} and {@link #numericTimes}. */
    private static final int START = 1;
    private static final int END = 2;
    private static final int DUR = 4;

    /** The longest {@code src} (in bytes, as written) remembered for the next line. */
    static final int SOURCE_CACHE_MAX = 256;

    /** {@code {"v":1,} as the first seven bytes of a little-endian long, and their mask. */
    private static final long V1_FIRST = WireNames.word("{\"v\":1,");
    private static final long M7 = 0xFFFFFFFFFFFFFFL;

    /** The usual names may be matched as {@code "name":} literals ({@link WireNames#quotedTopKey}): none is over the name limit. */
    private final boolean quickNames;
    /** A line starting {@code {"v":1,} may skip reading its version ({@link #object}): the number limit allows one digit. */
    private final boolean quickVersion;
    /** Whether the last {@code src} is remembered ({@link #lastSourceBytes}, {@link #lastSource}). */
    private final boolean cachesSource;
    /** The raw bytes (between the quotes) of the last {@code src} read, and its text. */
    private byte[] lastSourceBytes;
    private String lastSource;
    private boolean versionUnsupported;

    /*
     * What a line's message gets. No reference to a new object is stored in these fields while a
     * line is scanned (see JsonValues.keptString: a long-lived scanner pays a GC write barrier for
     * each): kept strings are bounds, the type its ordinal, a remembered src a flag.
     */
    private String src;
    /** The line's {@code src} is {@link #lastSource}. */
    private boolean srcIsLast;
    private long ts;
    /** {@link MessageType#ordinal()} + 1 of the type, 0 if none. */
    private int type;
    private long tid;
    private long sid;
    private long pid;

    /** Payload fields: the kind of each (0 if absent) and the texts a message keeps. */
    private int level;
    private int msg;
    private int name;
    private int value;
    private int status;
    private long levelText;
    private long nameText;
    private long statusText;
    private int times;
    private int numericTimes;
    private long startMs;
    private long endMs;
    private long durMs;

    /** A scanner for one line. */
    ShortFormScan(ScanLimits limits) {
        this(limits, false);
    }

    /**
     * A scanner to reuse for line after line ({@link #scan}).
     *
     * @param cachesSource remember the last {@code src} (for a connection's scanner, whose lines
     *                     are mostly from one source)
     */
    ShortFormScan(ScanLimits limits, boolean cachesSource) {
        super(limits);
        this.quickNames = limits.name() >= 5;
        this.quickVersion = quickNames && limits.number() >= 1;
        this.cachesSource = cachesSource;
    }

    @Override
    void begin(byte[] b, int start, int end) {
        super.begin(b, start, end);
        versionUnsupported = false;
        src = null;
        srcIsLast = false;
        ts = 0;
        type = 0;
        tid = 0;
        sid = 0;
        pid = 0;
        level = 0;
        msg = 0;
        name = 0;
        value = 0;
        status = 0;
        levelText = 0;
        nameText = 0;
        statusText = 0;
        times = 0;
        numericTimes = 0;
        startMs = 0;
        endMs = 0;
        durMs = 0;
    }

    /**
     * Scans the trimmed line {@code b[start, end)} ({@code b[start] == '{'}).
     *
     * @return the {@link Message} (not wrapped: a connection's decoder may hand it over as it is),
     *         a rejection ({@link DecodeResult}), or {@code null} if the line uses the long form
     */
    Object scan(byte[] b, int start, int end) {
        begin(b, start, end);
        try {
            return scan();
        } finally {
            this.b = null;
        }
    }

    private Object scan() {
        try {
            int p = object();
            if (p < 0) {
                return null;
            }
            if (ws(p) != end) {
                return Lines.TRAILING;
            }
        } catch (RuntimeException e) {
            if (e != MALFORMED) {
                throw e;
            }
            return DecodeResult.rejected(DropReason.MALFORMED, errorWhat == null
                    ? "invalid UTF-8 at byte " + (errorAt - start)
                    : "invalid JSON at byte " + (errorAt - start) + ": " + errorWhat);
        }
        return finish();
    }

    /** The top-level object; returns the position after it, or -1 at a long-form name. */
    private int object() {
        checkDepth(start, 1);
        int p;
        if (quickVersion && start + 8 <= end && ((long) LONGS.get(b, start) & M7) == V1_FIRST) {
            // what senders write first: "v":1 read with one compare (a ',' follows, so the number is 1)
            seen = Field.V.bit;
            p = ws(start + 7);
        } else {
            p = ws(start + 1);
            if (at(p) == '}') {
                return p + 1;
            }
        }
        for (;;) {
            int key;
            int known = quickNames && p + 8 <= end ? WireNames.quotedTopKey((long) LONGS.get(b, p)) : 0;
            if (known != 0) {
                key = known >>> 8;
                p = ws(p + (known & 0xff));
            } else {
                if (at(p) != '"') {
                    throw fail(p, "expected a field name");
                }
                p = name(p + 1);
                key = topKey();
                if (key == K_LONG_FORM) {
                    return -1;
                }
                p = colon(p);
            }
            p = ws(error == null || key == K_V ? envelope(key, p) : value(p, 1));
            byte c = at(p);
            if (c == '}') {
                return p + 1;
            }
            if (c != ',') {
                throw fail(p, "expected ',' or '}'");
            }
            p = ws(p + 1);
        }
    }

    /** Reads the top-level field {@code key} whose value is at {@code p}; returns the position after it. */
    private int envelope(int key, int p) {
        if (key == K_DATA) {
            if (accept(Field.DATA, at(p) == '{')) {
                return data(p);
            }
            return value(p, 1);
        }
        p = value(p, 1);
        switch (key) {
            case K_V -> {
                if (accept(Field.V, kind == INT) && !(numIntLen == 1 && !numNegative && b[numTo - 1] == '1')) {
                    numberType(); // as the reference's getNumberType()
                    versionUnsupported = true;
                }
            }
            case K_SRC -> {
                if (accept(Field.SRC, kind == STRING && strTo > strFrom)) {
                    if (cachesSource) {
                        source();
                    } else {
                        src = strTo - strFrom <= SOURCE_CACHE_MAX ? sharedSource(strFrom, strTo).text : text();
                    }
                }
            }
            case K_TS -> epochMillis();
            case K_TYPE -> type();
            case K_TID -> tid = id(Field.TID);
            case K_SID -> sid = id(Field.SID);
            case K_PID -> pid = id(Field.PID);
            case K_CTX -> accept(Field.CTX, kind == OBJECT || kind == NULL);
            default -> {
                // not an envelope field: kept in the line
            }
        }
        return p;
    }

    /** Reads the {@code src} string just scanned: the last one's text if its bytes are the same. */
    private void source() {
        int from = strFrom;
        int to = strTo;
        byte[] last = lastSourceBytes;
        if (last != null && last.length == to - from && sameBytes(b, from, last)) {
            srcIsLast = true; // no store of the String itself: see the fields
            return;
        }
        if (to - from <= SOURCE_CACHE_MAX) {
            SharedTexts.Entry e = sharedSource(from, to);
            lastSourceBytes = e.raw;
            lastSource = e.text;
            srcIsLast = true;
        } else {
            src = text();
        }
    }

    /**
     * The {@code src} string just scanned ({@code b[from, to)}, at most {@link SharedTexts#MAX_BYTES})
     * from the process-wide table, so that every message of a source shares one {@code String}
     * even when a connection sends for thousands of sources in turn; made (and its limit checked)
     * and kept there if it is not in it.
     */
    private SharedTexts.Entry sharedSource(int from, int to) {
        int h = SharedTexts.hash(b, from, to);
        SharedTexts.Entry e = SharedTexts.SOURCES.get(b, from, to, h);
        if (e == null) {
            return SharedTexts.SOURCES.put(b, from, to, h, text());
        }
        if (e.text.length() > limits.string()) {
            text(); // this scanner's limit is lower than the one that made the entry: rejected as before
        }
        return e;
    }

    /** A span's name: shared like sources ({@link SharedTexts#SPAN_NAMES}), the span store keeps one per span. */
    private String spanName(long kept) {
        int from = keptFrom(kept);
        int to = keptTo(kept);
        if (to - from > SharedTexts.MAX_BYTES) {
            return keptText(kept);
        }
        int h = SharedTexts.hash(b, from, to);
        SharedTexts.Entry e = SharedTexts.SPAN_NAMES.get(b, from, to, h);
        return e != null ? e.text : SharedTexts.SPAN_NAMES.put(b, from, to, h, keptText(kept)).text;
    }

    /**
     * Whether {@code b[from, from + last.length)} are the bytes of {@code last}: eight at a time, inline
     * ({@code Arrays.equals} of a range calls a mismatch routine that C2 does not inline here).
     */
    private static boolean sameBytes(byte[] b, int from, byte[] last) {
        int n = last.length;
        if (n >= 8) {
            for (int i = 0; i < n - 8; i += 8) {
                if ((long) LONGS.get(b, from + i) != (long) LONGS.get(last, i)) {
                    return false;
                }
            }
            // the last eight bytes, overlapping the words compared before if n is not a multiple of 8
            return (long) LONGS.get(b, from + n - 8) == (long) LONGS.get(last, n - 8);
        }
        for (int i = 0; i < n; i++) {
            if (b[from + i] != last[i]) {
                return false;
            }
        }
        return true;
    }

    private int topKey() {
        long w = nameWord();
        if (w != 0) {
            return WireNames.topKey(w);
        }
        if (strEscaped) {
            return WireNames.topKey(escapedName());
        }
        int len = strTo - strFrom; // longer than 8 bytes
        return len == 9 && is(strFrom, "timestamp") || len == 14 && is(strFrom, "parent_span_id") ? K_LONG_FORM : 0;
    }

    private int dataKey() {
        long w = nameWord();
        return w != 0 ? WireNames.dataKey(w) : strEscaped ? WireNames.dataKey(escapedName()) : 0;
    }

    /** Whether the bytes at {@code f} are {@code key} (the caller checked the length). */
    private boolean is(int f, String key) {
        for (int i = 0; i < key.length(); i++) {
            if (b[f + i] != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private void epochMillis() {
        if (!accept(Field.TS, kind == INT)) {
            return;
        }
        if (!numberType()) {
            fail(TS_OUT_OF_RANGE);
            return;
        }
        long millis = numLong();
        if (millis < 0) {
            fail(Field.TS.badType);
        } else {
            ts = millis;
        }
    }

    private void type() {
        if (!accept(Field.TYPE, kind == STRING)) {
            return;
        }
        MessageType known;
        if (strEscaped || !strAscii) {
            known = MessageType.fromWireName(textUnlimited()); // getTextCharacters(): no limit
        } else {
            long w = nameWord();
            known = w != 0 ? WireNames.type(w) : strTo - strFrom == 9 && is(strFrom, "heartbeat") ? MessageType.HEARTBEAT
                    : null;
        }
        if (known != null) {
            type = known.ordinal() + 1;
            return;
        }
        String text = text(); // as Jackson's getText(), which applies the string limit
        if (text.length() > TYPE_DETAIL_MAX) {
            text = text.substring(0, TYPE_DETAIL_MAX) + "…";
        }
        fail(DecodeResult.rejected(DropReason.UNKNOWN_TYPE, "unknown type '" + text + "'"));
    }

    /**
     * A trace, span or parent id: a string or an integer's text, {@linkplain #keptText kept};
     * {@code null} and {@code ""} mean absent (0).
     */
    private long id(Field field) {
        if (!mark(field)) {
            return 0;
        }
        if (kind == STRING) {
            return strTo == strFrom ? 0 : keptString();
        } else if (kind == INT) {
            return keptNumberText();
        } else if (kind != NULL) {
            fail(field.badType);
        }
        return 0;
    }

    /** Scans {@code data} (an object at depth 2) once, noting the payload fields every type might need. */
    private int data(int p) {
        checkDepth(p, 2);
        boolean event = type == 0 || type == EVENT_TYPE; // type may come after data
        boolean span = type == 0 || type == SPAN_TYPE;
        p = ws(p + 1);
        if (at(p) == '}') {
            return p + 1;
        }
        for (;;) {
            int key;
            int known = quickNames && p + 8 <= end ? WireNames.quotedDataKey((long) LONGS.get(b, p)) : 0;
            if (known != 0) {
                key = known >>> 8;
                p = value(ws(p + (known & 0xff)), 2);
            } else {
                if (at(p) != '"') {
                    throw fail(p, "expected a field name");
                }
                p = name(p + 1);
                key = dataKey();
                p = value(colon(p), 2);
            }
            switch (key) {
                case D_LEVEL -> levelText = (level = kind) == STRING && event ? keptLevel() : 0;
                case D_MSG -> msg = kind;
                case D_NAME -> nameText = (name = kind) == STRING && span ? keptString() : 0;
                case D_VALUE -> value = kind;
                case D_STATUS -> statusText = (status = kind) == STRING && span ? keptStatus() : 0;
                case D_START -> startMs = span ? time(START) : 0;
                case D_END -> endMs = span ? time(END) : 0;
                case D_DUR -> durMs = span ? time(DUR) : 0;
                default -> {
                    // other payload fields are kept in the line
                }
            }
            p = ws(p);
            byte c = at(p);
            if (c == '}') {
                return p + 1;
            }
            if (c != ',') {
                throw fail(p, "expected ',' or '}'");
            }
            p = ws(p + 1);
        }
    }

    /** An event's level: the usual ones are shared constants (no limit to check), any other is kept like every string. */
    private long keptLevel() {
        return WireNames.level(nameWord()) != null ? keptConstant() : keptString();
    }

    /** A span's status: {@code ok} and {@code error} are shared constants. */
    private long keptStatus() {
        return WireNames.status(nameWord()) != null ? keptConstant() : keptString();
    }

    /** The text of a kept level ({@link #keptLevel}): the shared constant if it is one of the usual. */
    private String level(long kept) {
        String known = WireNames.level(keptWord(kept));
        return known != null ? known : keptText(kept);
    }

    private String status(long kept) {
        String known = WireNames.status(keptWord(kept));
        return known != null ? known : keptText(kept);
    }

    /** A span time in ms (floats are floored); an integer too large for a long is not a number here. */
    private long time(int bit) {
        times |= bit;
        if (kind == INT && numberType()) {
            numericTimes |= bit;
            return numLong();
        }
        if (kind == FLOAT) {
            numericTimes |= bit;
            return (long) Math.floor(numDouble());
        }
        numericTimes &= ~bit;
        return 0;
    }

    /** {@code null} if span time {@code bit} was given as a number, else its rejection. */
    private DecodeResult time(int bit, Field field) {
        if ((times & bit) == 0) {
            return field.missing;
        }
        return (numericTimes & bit) == 0 ? field.badType : null;
    }

    /** The checks that need the whole line, in {@link JacksonLineDecoder}'s order, and the message (or the rejection). */
    private Object finish() {
        if (versionUnsupported) {
            return Lines.UNSUPPORTED;
        }
        if (error != null) {
            return error;
        }
        if ((seen & REQUIRED_BITS) != REQUIRED_BITS) {
            for (Field f : REQUIRED) {
                if ((seen & f.bit) == 0) {
                    return f.missing;
                }
            }
        }
        String lvl = null;
        SpanInfo span = null;
        DecodeResult bad;
        MessageType type = TYPES[this.type - 1]; // set: the field was seen, and no problem noted
        switch (type) {
            case EVENT:
                if ((bad = requireString(level, Field.LEVEL)) != null || (bad = requireString(msg, Field.MSG)) != null) {
                    return bad;
                }
                lvl = levelText == 0 ? null : level(levelText);
                break;
            case METRIC:
                if ((bad = requireString(name, Field.NAME)) != null || (bad = requireNumber(value, Field.VALUE)) != null) {
                    return bad;
                }
                break;
            case SPAN:
                if ((bad = requireString(name, Field.NAME)) != null || (bad = time(START, Field.START)) != null) {
                    return bad;
                }
                if (status != 0 && status != STRING && status != NULL) {
                    return Field.STATUS.badType;
                }
                long spanEnd;
                if ((times & END) != 0) {
                    if ((bad = time(END, Field.END)) != null) {
                        return bad;
                    }
                    spanEnd = endMs;
                } else if ((times & DUR) != 0) {
                    if ((bad = time(DUR, Field.DUR_MS)) != null) {
                        return bad;
                    }
                    spanEnd = startMs + durMs;
                } else {
                    return Lines.SPAN_END_MISSING;
                }
                span = new SpanInfo(spanName(nameText), statusText == 0 ? null : status(statusText), startMs, spanEnd);
                break;
            default:
                break;
        }
        return new Message(srcIsLast ? lastSource : src, ts, type, keptText(tid), keptText(sid), keptText(pid), lvl, span,
                Arrays.copyOfRange(b, start, end));
    }

    private static DecodeResult requireString(int kind, Field field) {
        if (kind == 0) {
            return field.missing;
        }
        return kind == STRING ? null : field.badType;
    }

    private static DecodeResult requireNumber(int kind, Field field) {
        if (kind == 0) {
            return field.missing;
        }
        return kind == INT || kind == FLOAT ? null : field.badType;
    }
}
