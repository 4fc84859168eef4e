package io.signalbox.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Splits one connection's byte stream into lines, for every stream transport (TCP, Unix domain
 * sockets): bytes are split on {@code '\n'} straight out of the transport's read buffer; a line
 * that spans reads is collected in a carry-over buffer that never grows beyond
 * {@code maxLineLength} (+1 for a {@code '\r'}): a longer line is reported once through
 * {@link Sink#tooLong()} and skipped up to its {@code '\n'}. Not thread-safe: one reader at a time.
 */
public final class LineFramer {
    /** Where framed lines go. */
    public interface Sink {
        /**
         * One line, without its {@code '\n'} (a {@code '\r'} before it is still there).
         *
         * @return flags for the caller of {@link #frame}; {@link #STOP} ends the framing at once
         */
        int line(byte[] buf, int off, int len);

        /** A line longer than the limit was skipped. */
        void tooLong();
    }

    /** Returned by a sink to stop framing: the rest of the buffer is not looked at. */
    public static final int STOP = 1 << 30;

    private static final int INITIAL_CARRY = 512;

    private final int maxLineLength;
    /** The start of a line whose {@code '\n'} has not arrived yet: {@code carry[0 .. carryLength)}. */
    private byte[] carry = new byte[0];
    private int carryLength;
    /** The current line is too long: skip bytes up to the next {@code '\n'}. */
    private boolean discarding;

    public LineFramer(int maxLineLength) {
        if (maxLineLength < 1) {
            throw new IllegalArgumentException("maxLineLength < 1");
        }
        this.maxLineLength = maxLineLength;
    }

    public int maxLineLength() {
        return maxLineLength;
    }

    /** Bytes held for a line whose newline has not arrived (at most {@code maxLineLength + 1}). */
    public int carryLength() {
        return carryLength;
    }

    /** The size the carry-over buffer has grown to (tests check that a huge line never made it big). */
    public int carryCapacity() {
        return carry.length;
    }

    /**
     * Frames {@code buf[from .. to)} and passes every complete line to {@code sink}.
     *
     * @return the OR of the sink's results
     */
    public int frame(byte[] buf, int from, int to, Sink sink) {
        int result = 0;
        int i = from;
        while (i < to && (result & STOP) == 0) {
            int nl = indexOfNewline(buf, i, to);
            if (nl < 0) {
                int rest = to - i;
                if (!discarding) {
                    if (carryLength + rest > maxLineLength + 1) { // +1: room for a '\r'
                        carryLength = 0;
                        discarding = true;
                        sink.tooLong();
                    } else {
                        append(buf, i, rest);
                    }
                }
                break;
            }
            if (discarding) {
                discarding = false;
            } else if (carryLength > 0) {
                int rest = nl - i;
                if (carryLength + rest > maxLineLength + 1) {
                    carryLength = 0;
                    sink.tooLong();
                } else {
                    append(buf, i, rest);
                    int len = carryLength;
                    carryLength = 0;
                    result |= deliver(carry, 0, len, sink);
                }
            } else {
                result |= deliver(buf, i, nl - i, sink);
            }
            i = nl + 1;
        }
        return result;
    }

    /** At the end of the stream: a last line without {@code '\n'} is passed on. */
    public int finish(Sink sink) {
        int result = 0;
        if (carryLength > 0 && !discarding) {
            int len = carryLength;
            carryLength = 0;
            result = deliver(carry, 0, len, sink);
        }
        carryLength = 0;
        discarding = false;
        return result;
    }

    private int deliver(byte[] buf, int off, int len, Sink sink) {
        int effective = len > 0 && buf[off + len - 1] == '\r' ? len - 1 : len;
        if (effective > maxLineLength) {
            sink.tooLong();
            return 0;
        }
        return sink.line(buf, off, len);
    }

    private void append(byte[] src, int off, int len) {
        int need = carryLength + len;
        if (need > carry.length) {
            carry = Arrays.copyOf(carry, Math.max(need, Math.max(INITIAL_CARRY, carry.length * 2)));
        }
        System.arraycopy(src, off, carry, carryLength, len);
        carryLength = need;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long NEWLINES = ONES * '\n';

    /**
     * Index of the first {@code '\n'} in {@code buf[from .. to)}, or -1. Eight bytes per step
     * (the classic "has zero byte" bit trick on the bytes XOR '\n'): the scan was 7 % of the I/O
     * threads' time byte by byte.
     */
    public static int indexOfNewline(byte[] buf, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            long x = (long) LONGS.get(buf, i) ^ NEWLINES;
            long found = (x - ONES) & ~x & HIGHS;
            if (found != 0) {
                return i + Swar.firstMarkedByte(found);
            }
        }
        for (; i < to; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
