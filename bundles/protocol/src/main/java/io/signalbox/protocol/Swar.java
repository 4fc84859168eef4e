package io.signalbox.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Eight bytes at a time (SWAR: SIMD within a register) for the scanner: a line's bytes are read
 * as little-endian longs ({@link #LONGS}, the first byte lowest), and a few ALU operations tell
 * where a string's plain run ends or how many digits follow, and what they are worth.
 */
final class Swar {
    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long ZEROS = 0x3030303030303030L;

    private Swar() {
    }

    /**
     * The high bit of each byte of {@code w} (little endian: the first byte lowest) that ends the
     * plain run of a string — {@code '"'}, {@code '\\'}, a control character or a non-ASCII byte —
     * exact at the lowest set bit (bits above it may be false alarms), {@code 0} if there is none.
     */
    static long special(long w) {
        // Below the first special byte every byte is ASCII in 0x20..0x7F and neither '"' nor '\\': no
        // term borrows there or sets its high bit. At the first special byte one term (or w itself,
        // for non-ASCII) sets the high bit. Above it, borrows and bytes of 0x80 or more may: false
        // alarms, which is why only the lowest bit is exact (no "& ~x" masks are needed for that).
        return ((w ^ ONES * '"') - ONES | (w ^ ONES * '\\') - ONES | w - ONES * 0x20 | w) & HIGH_BITS;
    }

    /**
     * How many ASCII digits start {@code w} (the first byte lowest): 0 to 8. Bytes after the first
     * non-digit do not matter (the {@code + 6} may carry into them).
     */
    static int leadingDigits(long w) {
        long x = (w & 0xF0F0F0F0F0F0F0F0L ^ ZEROS) | ((w + 0x0606060606060606L) & 0xF0F0F0F0F0F0F0F0L ^ ZEROS);
        long nonDigits = ((x & 0x7F7F7F7F7F7F7F7FL) + 0x7F7F7F7F7F7F7F7FL | x) & HIGH_BITS; // exact per byte
        return nonDigits == 0 ? 8 : firstMarkedByte(nonDigits);
    }

    /**
     * The index (0 to 7, the first byte lowest) of the lowest byte whose high bit is set in
     * {@code marks}, which has no other bits set and is not {@code 0}: {@code
     * Long.numberOfTrailingZeros(marks) >>> 3} without the call. C1, the shipped JIT, does not make
     * {@code numberOfTrailingZeros} an instruction: it was a call of its own (~3 % of the I/O threads'
     * samples). The lowest mark, shifted down to bit 8k, times 0x0001020304050607 puts 7 - (7 - k) = k
     * in the top byte; the other products land in lower bytes without carries (each is at most 7).
     */
    static int firstMarkedByte(long marks) {
        return (int) ((((marks & -marks) >>> 7) * 0x0001020304050607L) >>> 56);
    }

    /** The value of the first {@code n} (1 to 8) bytes of {@code w}, ASCII digits. */
    static long digitsValue(long w, int n) {
        int shift = (8 - n) << 3; // the n digits to the top, '0's below them
        return eightDigitsValue(shift == 0 ? w : w << shift | ZEROS >>> (64 - shift));
    }

    /** The value of eight ASCII digits, the first in the lowest byte of {@code w}. */
    static long eightDigitsValue(long w) {
        w -= ZEROS;
        w = w * 10 + (w >>> 8); // pairs: 10a+b in every other byte
        return ((w & 0x000000FF000000FFL) * (100 + (1_000_000L << 32))
                + ((w >>> 16) & 0x000000FF000000FFL) * (1 + (10_000L << 32))) >>> 32;
    }
}
