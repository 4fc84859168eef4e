package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

class IndexOfNewlineTest {

    private static int naive(byte[] buf, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    @Test
    void findsTheFirstNewlineAtEveryPositionAndAlignment() {
        for (int len = 0; len < 40; len++) {
            for (int nl = -1; nl < len; nl++) {
                for (int from = 0; from <= Math.min(len, 9); from++) {
                    byte[] buf = new byte[len];
                    java.util.Arrays.fill(buf, (byte) 'x');
                    if (nl >= 0) {
                        buf[nl] = '\n';
                    }
                    assertThat(LineFramer.indexOfNewline(buf, from, len)).as("len %s nl %s from %s", len, nl, from)
                            .isEqualTo(naive(buf, from, len));
                }
            }
        }
    }

    @Test
    void agreesWithAByteByByteScanOnRandomBytesIncludingNeighboursOfNewline() {
        Random random = new Random(42);
        byte[] alphabet = {'\n', '\n' + 1, '\n' - 1, 0, (byte) 0x8a, (byte) 0xff, 'a', '"', 0x0b, 0x09};
        for (int round = 0; round < 20_000; round++) {
            byte[] buf = new byte[random.nextInt(64)];
            for (int i = 0; i < buf.length; i++) {
                buf[i] = random.nextInt(4) == 0 ? alphabet[random.nextInt(alphabet.length)] : (byte) random.nextInt(256);
            }
            int from = buf.length == 0 ? 0 : random.nextInt(buf.length + 1);
            int to = from + (buf.length - from == 0 ? 0 : random.nextInt(buf.length - from + 1));
            assertThat(LineFramer.indexOfNewline(buf, from, to)).isEqualTo(naive(buf, from, to));
        }
    }
}
