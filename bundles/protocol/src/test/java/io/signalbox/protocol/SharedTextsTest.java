package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** {@link SharedTexts}: bounded, and an entry found is always the text of the bytes looked up. */
class SharedTextsTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aTextPutIsFoundByItsBytesAtAnyOffset() {
        SharedTexts t = new SharedTexts(64);
        byte[] raw = bytes("xxbilling-workerxx");
        int h = SharedTexts.hash(raw, 2, 16);
        assertThat(t.get(raw, 2, 16, h)).isNull();
        SharedTexts.Entry put = t.put(raw, 2, 16, h, "billing-worker");
        assertThat(put.raw).isEqualTo(bytes("billing-worker"));

        byte[] other = bytes("billing-worker");
        SharedTexts.Entry found = t.get(other, 0, other.length, SharedTexts.hash(other, 0, other.length));
        assertThat(found).isSameAs(put);
        byte[] prefix = bytes("billing-worke");
        assertThat(t.get(prefix, 0, prefix.length, SharedTexts.hash(prefix, 0, prefix.length))).isNull();
    }

    @Test
    void aFullTableEvictsButNeverGivesAnotherText() {
        SharedTexts t = new SharedTexts(4);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 200; i++) {
                byte[] raw = bytes("source-" + i);
                int h = SharedTexts.hash(raw, 0, raw.length);
                SharedTexts.Entry e = t.get(raw, 0, raw.length, h);
                if (e == null) {
                    e = t.put(raw, 0, raw.length, h, "source-" + i);
                }
                assertThat(e.text).isEqualTo("source-" + i);
            }
            assertThat(t.size()).isLessThanOrEqualTo(4);
        }
    }

    @Test
    void longTextsAreNotKept() {
        SharedTexts t = new SharedTexts(8);
        byte[] raw = bytes("s".repeat(SharedTexts.MAX_BYTES + 1));
        int h = SharedTexts.hash(raw, 0, raw.length);
        assertThat(t.put(raw, 0, raw.length, h, "s".repeat(SharedTexts.MAX_BYTES + 1)).text).hasSize(SharedTexts.MAX_BYTES + 1);
        assertThat(t.get(raw, 0, raw.length, h)).isNull();
        assertThat(t.size()).isZero();
    }

    @Test
    void theSizeMustBeAPowerOfTwo() {
        assertThatThrownBy(() -> new SharedTexts(12)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SharedTexts(1)).isInstanceOf(IllegalArgumentException.class);
    }
}
