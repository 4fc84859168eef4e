package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Utf8Test {

    @ParameterizedTest(name = "{0}: invalid at {1}")
    @CsvSource({
        "c0af, 0", // overlong '/'
        "e080af, 0", // overlong, 3 bytes
        "f08080af, 0", // overlong, 4 bytes
        "eda080, 0", // UTF-16 high surrogate
        "edbfbf, 0", // UTF-16 low surrogate
        "f4908080, 0", // above U+10FFFF
        "80, 0", // stray continuation byte
        "41e282, 1", // truncated at the end
        "41e22841, 1", // lead byte without its continuation
        "4142434445464748f5, 8", // F5 never starts a sequence; found after an ASCII word
        "ff, 0",
    })
    void rejectsWhatRfc3629Forbids(String hex, int at) {
        byte[] b = HexFormat.of().parseHex(hex);
        assertThat(Utf8.firstInvalid(b, 0, b.length)).isEqualTo(at);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "41", "c3a9", "e282ac", "f09f9880", "f48fbfbf", "ed9fbf", "ee8080", "c280", "e0a080", "f0908080",
        "4142434445464748c3a94142434445464748e282ac",
    })
    void acceptsValidSequences(String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        assertThat(Utf8.firstInvalid(b, 0, b.length)).isEqualTo(-1);
    }

    @Test
    void onlyTheGivenRangeIsChecked() {
        byte[] b = HexFormat.of().parseHex("ff41424344ff");
        assertThat(Utf8.firstInvalid(b, 1, 5)).isEqualTo(-1);
        assertThat(Utf8.firstInvalid(b, 1, 6)).isEqualTo(5);
    }

    /** Agrees with the JDK's strict decoder on 200,000 random byte strings biased to the interesting bytes. */
    @Test
    void agreesWithTheJdkDecoderOnRandomBytes() {
        SplittableRandom random = new SplittableRandom(20261206);
        int[] interesting = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed,
            0xef, 0xf0, 0xf4, 0xf5, 0xff};
        int invalid = 0;
        for (int n = 0; n < 200_000; n++) {
            byte[] b = new byte[random.nextInt(1, 24)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (random.nextInt(3) == 0 ? random.nextInt(256) : interesting[random.nextInt(interesting.length)]);
            }
            boolean jdkValid = jdkValid(b);
            invalid += jdkValid ? 0 : 1;
            assertThat(Utf8.firstInvalid(b, 0, b.length) < 0).as(HexFormat.of().formatHex(b)).isEqualTo(jdkValid);
        }
        assertThat(invalid).as("both kinds were generated").isBetween(1_000, 199_000);
    }

    private static boolean jdkValid(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
