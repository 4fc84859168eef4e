package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** {@link Swar}'s word tricks against the obvious byte-by-byte definitions. */
class SwarTest {
    /** Bytes around the edges of the digits, the quote, backslash and control ranges, and beyond 0x7F. */
    private static final int[] EDGES = {0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x29, 0x2a, 0x2f, 0x30, 0x31, 0x38, 0x39,
        0x3a, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xc3, 0xf9, 0xfa, 0xff};

    private static long word(byte[] b) {
        long w = 0;
        for (int i = 7; i >= 0; i--) {
            w = w << 8 | (b[i] & 0xff);
        }
        return w;
    }

    private static byte[] randomBytes(SplittableRandom random) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            int kind = random.nextInt(4);
            b[i] = (byte) (kind == 0 ? random.nextInt(256) : kind == 1 ? EDGES[random.nextInt(EDGES.length)]
                    : '0' + random.nextInt(10));
        }
        return b;
    }

    /** Every mask of byte high bits (all 255 non-empty ones): the lowest marked byte, as numberOfTrailingZeros says. */
    @Test
    void firstMarkedByteIsTheLowestByteWhoseHighBitIsSet() {
        for (int bits = 1; bits < 256; bits++) {
            long marks = 0;
            for (int k = 0; k < 8; k++) {
                if ((bits & 1 << k) != 0) {
                    marks |= 0x80L << (8 * k);
                }
            }
            assertThat(Swar.firstMarkedByte(marks)).as("marks %016x", marks)
                    .isEqualTo(Long.numberOfTrailingZeros(marks) >>> 3)
                    .isEqualTo(Integer.numberOfTrailingZeros(bits));
        }
    }

    @Test
    void leadingDigitsAndTheirValueAreThoseOfTheBytes() {
        SplittableRandom random = new SplittableRandom(12);
        for (int i = 0; i < 2_000_000; i++) {
            byte[] b = randomBytes(random);
            int n = 0;
            long value = 0;
            while (n < 8 && b[n] >= '0' && b[n] <= '9') {
                value = value * 10 + (b[n] - '0');
                n++;
            }
            long w = word(b);
            assertThat(Swar.leadingDigits(w)).as("%016x", w).isEqualTo(n);
            if (n > 0) {
                assertThat(Swar.digitsValue(w, n)).as("%016x", w).isEqualTo(value);
            }
        }
    }

    @Test
    void theFirstSpecialByteOfAStringRunIsFound() {
        SplittableRandom random = new SplittableRandom(13);
        for (int i = 0; i < 2_000_000; i++) {
            byte[] b = randomBytes(random);
            int first = 8;
            for (int j = 0; j < 8; j++) {
                int c = b[j] & 0xff;
                if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
                    first = j;
                    break;
                }
            }
            long special = Swar.special(word(b));
            assertThat(special == 0 ? 8 : Long.numberOfTrailingZeros(special) >>> 3).as("%016x", word(b))
                    .isEqualTo(first);
        }
    }
}
