package io.signalbox.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Strict UTF-8 validation (RFC 3629): rejects what Jackson lets through in strings it skips or
 * copies as bytes — overlong forms ({@code C0 AF}, {@code E0 80 AF}, {@code F0 80 80 AF}), UTF-16
 * surrogates ({@code ED A0 80}), code points above U+10FFFF, stray continuation bytes and truncated
 * sequences. Lines are mostly ASCII: eight bytes are checked at a time until a byte with the high
 * bit set, so the common line costs about one load and one test per eight bytes.
 */
final class Utf8 {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private Utf8() {
    }

    /** The index of the first byte of the first invalid sequence in {@code b[from, to)}, or -1 if all is valid. */
    static int firstInvalid(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            while (i + 8 <= to && ((long) LONGS.get(b, i) & HIGH_BITS) == 0) {
                i += 8;
            }
            if (i >= to) {
                break;
            }
            int lead = b[i] & 0xff;
            if (lead < 0x80) {
                i++;
                continue;
            }
            int n = sequenceLength(b, i, to, lead);
            if (n < 0) {
                return i;
            }
            i += n;
        }
        return -1;
    }

    /** Bytes of the valid multi-byte sequence starting with {@code lead} at {@code i}, or -1. */
    static int sequenceLength(byte[] b, int i, int to, int lead) {
        if (lead < 0xC2) {
            return -1; // a continuation byte, or C0/C1: an overlong 2-byte form
        }
        if (lead < 0xE0) {
            return i + 1 < to && isContinuation(b[i + 1]) ? 2 : -1;
        }
        if (lead < 0xF0) {
            if (i + 2 >= to || !isContinuation(b[i + 1]) || !isContinuation(b[i + 2])) {
                return -1;
            }
            int second = b[i + 1] & 0xff;
            boolean overlong = lead == 0xE0 && second < 0xA0;
            boolean surrogate = lead == 0xED && second >= 0xA0;
            return overlong || surrogate ? -1 : 3;
        }
        if (lead < 0xF5) {
            if (i + 3 >= to || !isContinuation(b[i + 1]) || !isContinuation(b[i + 2]) || !isContinuation(b[i + 3])) {
                return -1;
            }
            int second = b[i + 1] & 0xff;
            boolean overlong = lead == 0xF0 && second < 0x90;
            boolean aboveMax = lead == 0xF4 && second >= 0x90;
            return overlong || aboveMax ? -1 : 4;
        }
        return -1; // F5..FF never start a sequence
    }

    private static boolean isContinuation(byte x) {
        return (x & 0xC0) == 0x80;
    }
}
