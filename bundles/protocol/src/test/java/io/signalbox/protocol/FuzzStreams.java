package io.signalbox.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import io.signalbox.api.Message;

/**
 * Seeded, reproducible hostile byte streams for the ingest fuzz tests (issue 14): the lines of
 * {@link RandomLines} (valid lines of every type, mutations: truncations, flipped bytes, invalid
 * UTF-8, control and NUL bytes, duplicate keys, wrong types per field, huge numbers, nesting past
 * the limit) mixed with random bytes, nesting 10,000 deep, lines of exactly {@code max} and
 * {@code max + 1} bytes, a 10 MB line, {@code \r\n} terminators, and the valid lines of the same
 * connection in between.
 *
 * <p>What must arrive is decided line by line by a separate {@link LineDecoder} on the line alone
 * (the oracle): a line it accepts must be delivered exactly once, in order, whatever else is on the
 * connection and however the bytes are cut into reads; every other line must not.
 */
public final class FuzzStreams {
    /** The bytes of one connection and the lines (as {@link Message#line()}) that must come out of it. */
    public record Stream(byte[] bytes, List<String> expected, int lines) {
    }

    private final SplittableRandom random;
    private final RandomLines lines;
    private final LineDecoder oracle = new LineDecoder();
    private final int maxLineLength;

    public FuzzStreams(long seed, int maxLineLength) {
        this.random = new SplittableRandom(seed);
        this.lines = new RandomLines(seed * 31 + 7, 1000);
        this.maxLineLength = maxLineLength;
    }

    /** A connection of about {@code count} lines; with {@code huge}, one 10 MB line is among them (or ends it). */
    public Stream next(int count, boolean huge) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(count * 160);
        List<String> expected = new ArrayList<>(count);
        int hugeAt = huge ? random.nextInt(count + 1) : -1;
        for (int i = 0; i < count; i++) {
            if (i == hugeAt) {
                byte[] big = new byte[10 * 1024 * 1024];
                Arrays.fill(big, (byte) 'x');
                big[0] = '{';
                out.writeBytes(big);
                out.write('\n');
            }
            byte[] line = special(i);
            if (line == null) {
                line = lines.next();
            }
            line = withoutNewlines(line);
            String accepted = accepted(line);
            if (accepted != null) {
                expected.add(accepted);
            }
            out.writeBytes(line);
            if (random.nextInt(10) == 0) {
                out.write('\r');
            }
            out.write('\n');
        }
        if (hugeAt == count) { // the connection ends inside a 10 MB line without newline
            byte[] big = new byte[10 * 1024 * 1024];
            Arrays.fill(big, (byte) 'y');
            out.writeBytes(big);
        }
        return new Stream(out.toByteArray(), expected, count);
    }

    /** What the oracle delivers for {@code line} alone, {@code null} if it must not arrive. */
    private String accepted(byte[] line) {
        if (line.length > maxLineLength) {
            return null;
        }
        Message m = oracle.decode(line, 0, line.length).message();
        if (m == null) {
            return null;
        }
        if (m.type() == io.signalbox.api.MessageType.HELLO && Hello.parse(line, 0, line.length).token() != null) {
            return null; // a credential is never delivered
        }
        return new String(m.line(), StandardCharsets.UTF_8);
    }

    /** One in 50 lines is one of the special cases. */
    private byte[] special(int i) {
        if (random.nextInt(50) != 0) {
            return null;
        }
        switch (random.nextInt(9)) {
            case 0: return exactly(maxLineLength);
            case 1: return exactly(maxLineLength + 1);
            case 2: return deep(10_000);
            case 3: return randomBytes(random.nextInt(1, 300));
            case 4: return ("{\"v\":1,\"src\":\"huge\",\"ts\":" + "9".repeat(random.nextInt(20, 400))
                    + ",\"type\":\"metric\",\"data\":{\"name\":\"n\",\"value\":1e999999}}").getBytes(StandardCharsets.UTF_8);
            case 5: return "{\"v\":1,\"src\":\"a\",\"src\":\"b\",\"ts\":1,\"type\":\"event\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
            case 6: return ("{\"v\":1,\"src\":\"nul\u0000\",\"ts\":1,\"type\":\"event\",\"data\":{\"msg\":\"a\u0000b\"}}")
                    .getBytes(StandardCharsets.UTF_8);
            case 7: return ("{\"v\":1,\"src\":" + pickWrong() + ",\"ts\":" + pickWrong() + ",\"type\":\"event\",\"data\":"
                    + pickWrong() + "}").getBytes(StandardCharsets.UTF_8);
            default: return new byte[] {'{', (byte) 0xC3, '(', (byte) 0xFF, '}'};
        }
    }

    private String pickWrong() {
        String[] values = {"1", "\"s\"", "[]", "{}", "null", "true", "-1.5e3", "\"\"", "[1,2]"};
        return values[random.nextInt(values.length)];
    }

    /** A valid event of exactly {@code length} bytes. */
    static byte[] exactly(int length) {
        String head = "{\"v\":1,\"src\":\"edge\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"";
        String tail = "\"}}";
        return (head + "m".repeat(length - head.length() - tail.length()) + tail).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] deep(int depth) {
        StringBuilder b = new StringBuilder("{\"v\":1,\"src\":\"deep\",\"ts\":1,\"type\":\"event\",\"data\":{\"x\":");
        b.append("[".repeat(depth)).append("]".repeat(depth)).append("}}");
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) random.nextInt(256);
        }
        return b;
    }

    /** Raw newlines inside a generated line would make two lines of it: they become blanks. */
    private static byte[] withoutNewlines(byte[] line) {
        byte[] copy = null;
        for (int i = 0; i < line.length; i++) {
            if (line[i] == '\n') {
                if (copy == null) {
                    copy = line.clone();
                }
                copy[i] = ' ';
            }
        }
        return copy != null ? copy : line;
    }

    /** Cuts of {@code bytes} into reads of 1 byte to 64 KiB, as a network would deliver them. */
    public int[] cuts(byte[] bytes) {
        List<Integer> ends = new ArrayList<>();
        int at = 0;
        while (at < bytes.length) {
            int len = switch (random.nextInt(4)) {
                case 0 -> random.nextInt(1, 16);
                case 1 -> random.nextInt(1, 2048);
                default -> random.nextInt(1, 65_536);
            };
            at = Math.min(bytes.length, at + len);
            ends.add(at);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }
}
