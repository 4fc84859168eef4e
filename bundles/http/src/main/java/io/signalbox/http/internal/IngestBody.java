package io.signalbox.http.internal;

/**
 * Splits an HTTP ingest body into the spans of its messages, without parsing them: one byte scan
 * that tracks strings, escapes and nesting depth. Every span is then validated by the protocol's
 * {@code LineDecoder}, exactly like a TCP line, so nothing is parsed twice and nothing is
 * re-serialised.
 *
 * <p>Three forms:
 * <ul>
 * <li>{@link #single}: the whole body is one message ({@code POST /v1/event}).</li>
 * <li>{@link #array}: a JSON array of messages ({@code POST /v1/events/batch} whose first
 * non-blank byte is {@code '['}). A broken array structure (no closing bracket, content after
 * it, an empty element) rejects the whole body: nothing of it is offered.</li>
 * <li>{@link #lines}: LDJSON, one message per {@code '\n'}-terminated line (the other batch
 * bodies); blank lines are skipped, as on TCP.</li>
 * </ul>
 *
 * <p>A protocol line must not contain a line break, but a pretty-printed JSON body does. The
 * CR and LF bytes outside strings of a single message or array element are therefore removed
 * {@linkplain #compact in place} (only that element's own bytes move, leftwards), which is the
 * only rewrite of the input. CR/LF inside a string is invalid JSON and left for the decoder to
 * reject.
 */
final class IngestBody {
    /** Bit set in a span's flags when it holds CR or LF outside strings. */
    static final int HAS_LINE_BREAK = 1;

    private int[] spans = new int[48];
    private int count;
    private String structureError;
    private int structureErrorIndex;

    private IngestBody() {
    }

    /** The number of spans found (when {@link #structureError()} is {@code null}). */
    int count() {
        return count;
    }

    int offset(int i) {
        return spans[3 * i];
    }

    int length(int i) {
        return spans[3 * i + 1];
    }

    int flags(int i) {
        return spans[3 * i + 2];
    }

    /** Why the body as a whole is not a JSON array of messages, or {@code null}. */
    String structureError() {
        return structureError;
    }

    /** The index of the element at which the structure broke. */
    int structureErrorIndex() {
        return structureErrorIndex;
    }

    private void add(int off, int len, int flags) {
        if (3 * count + 3 > spans.length) {
            spans = java.util.Arrays.copyOf(spans, spans.length * 2);
        }
        spans[3 * count] = off;
        spans[3 * count + 1] = len;
        spans[3 * count + 2] = flags;
        count++;
    }

    private IngestBody fail(String detail) {
        structureError = detail;
        structureErrorIndex = count;
        return this;
    }

    /** Whether the first non-blank byte of {@code buf[0 .. len)} is {@code '['}. */
    static boolean isArray(byte[] buf, int len) {
        int i = skipBlank(buf, 0, len);
        return i < len && buf[i] == '[';
    }

    /** Whether {@code buf[0 .. len)} holds nothing but blanks. */
    static boolean isBlank(byte[] buf, int len) {
        return skipBlank(buf, 0, len) == len;
    }

    /** The whole body as one message. */
    static IngestBody single(byte[] buf, int len) {
        IngestBody body = new IngestBody();
        body.add(0, len, lineBreakFlag(buf, 0, len));
        return body;
    }

    /** One span per line ({@code \r\n} tolerated); blank lines are skipped, as on TCP. */
    static IngestBody lines(byte[] buf, int len) {
        IngestBody body = new IngestBody();
        int start = 0;
        while (start < len) {
            int nl = indexOf(buf, (byte) '\n', start, len);
            int end = nl < 0 ? len : nl;
            if (skipBlank(buf, start, end) < end) {
                body.add(start, end - start, 0);
            }
            start = end + 1;
        }
        return body;
    }

    /** The elements of a JSON array; see {@link #structureError()}. */
    static IngestBody array(byte[] buf, int len) {
        IngestBody body = new IngestBody();
        int i = skipBlank(buf, 0, len);
        if (i == len || buf[i] != '[') {
            return body.fail("not a JSON array");
        }
        i = skipBlank(buf, i + 1, len);
        if (i < len && buf[i] == ']') {
            return trailing(body, buf, i + 1, len);
        }
        while (true) {
            int start = i;
            int depth = 0;
            int flags = 0;
            boolean inString = false;
            boolean ended = false;
            for (; i < len; i++) {
                byte b = buf[i];
                if (inString) {
                    if (b == '\\') {
                        i++;
                    } else if (b == '"') {
                        inString = false;
                    }
                } else if (b == '"') {
                    inString = true;
                } else if (b == '{' || b == '[') {
                    depth++;
                } else if (b == '}' || b == ']') {
                    if (depth == 0) {
                        ended = b == ']';
                        if (!ended) {
                            return body.fail("unbalanced '}' in the array");
                        }
                        break;
                    }
                    depth--;
                } else if (b == ',' && depth == 0) {
                    break;
                } else if (b == '\n' || b == '\r') {
                    flags |= HAS_LINE_BREAK;
                }
            }
            if (i >= len) {
                return body.fail(inString ? "unterminated string in the array" : "unterminated array (no closing ']')");
            }
            if (skipBlank(buf, start, i) == i) {
                return body.fail("empty array element");
            }
            body.add(start, i - start, flags);
            if (ended) {
                return trailing(body, buf, i + 1, len);
            }
            i++; // the comma
        }
    }

    private static IngestBody trailing(IngestBody body, byte[] buf, int from, int len) {
        if (skipBlank(buf, from, len) != len) {
            return body.fail("trailing content after the JSON array");
        }
        return body;
    }

    private static int lineBreakFlag(byte[] buf, int off, int len) {
        int end = off + len;
        for (int i = off; i < end; i++) {
            if (buf[i] == '\n' || buf[i] == '\r') {
                return HAS_LINE_BREAK;
            }
        }
        return 0;
    }

    /**
     * Removes CR and LF outside strings from {@code buf[off .. off+len)}, moving the bytes left in
     * place.
     *
     * @return the new length
     */
    static int compact(byte[] buf, int off, int len) {
        int end = off + len;
        int w = off;
        boolean inString = false;
        for (int r = off; r < end; r++) {
            byte b = buf[r];
            if (inString) {
                if (b == '\\' && r + 1 < end) {
                    buf[w++] = b;
                    b = buf[++r];
                } else if (b == '"') {
                    inString = false;
                }
            } else if (b == '"') {
                inString = true;
            } else if (b == '\n' || b == '\r') {
                continue;
            }
            buf[w++] = b;
        }
        return w - off;
    }

    /** Length of {@code buf[off .. off+len)} without leading and trailing blanks. */
    static int trimmedLength(byte[] buf, int off, int len) {
        int start = skipBlank(buf, off, off + len);
        int end = off + len;
        while (end > start && blank(buf[end - 1])) {
            end--;
        }
        return end - start;
    }

    private static int skipBlank(byte[] buf, int from, int to) {
        int i = from;
        while (i < to && blank(buf[i])) {
            i++;
        }
        return i;
    }

    private static boolean blank(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    private static int indexOf(byte[] buf, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
