package io.signalbox.backend.file.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** {@link Slot}: the file names of a template expansion; slots of one period share their stem and extension. */
class SlotTest {
    private final Path root = Path.of("/data/files");

    @Test
    void aSlotNamesItsFilesAndTheirRotatedSuccessors() {
        Slot s = new Slot("a/2026-12-07.jsonl", root.resolve("a/2026-12-07.jsonl"), 1);
        assertThat(s.dir()).isEqualTo(root.resolve("a"));
        assertThat(s.pathOf(0)).isEqualTo(root.resolve("a/2026-12-07.jsonl"));
        assertThat(s.pathOf(3)).isEqualTo(root.resolve("a/2026-12-07.3.jsonl"));
        Slot plain = new Slot("b/log", root.resolve("b/log"), 1);
        assertThat(plain.pathOf(0)).isEqualTo(root.resolve("b/log"));
        assertThat(plain.pathOf(2)).isEqualTo(root.resolve("b/log.2"));
    }

    @Test
    void slotsOfOtherSourcesNameTheirOwnFilesWithTheSameNames() {
        Slot a = new Slot("a/2026-12-07.jsonl", root.resolve("a/2026-12-07.jsonl"), 1);
        Slot b = new Slot("b/2026-12-07.jsonl", root.resolve("b/2026-12-07.jsonl"), 1, a);
        assertThat(b.pathOf(0)).isEqualTo(root.resolve("b/2026-12-07.jsonl"));
        assertThat(b.pathOf(1)).isEqualTo(root.resolve("b/2026-12-07.1.jsonl"));
        // another day and extension: its own names, nothing of the slot it was made after
        Slot c = new Slot("c/2026-12-08.log", root.resolve("c/2026-12-08.log"), 2, b);
        assertThat(c.pathOf(0)).isEqualTo(root.resolve("c/2026-12-08.log"));
        assertThat(c.pathOf(1)).isEqualTo(root.resolve("c/2026-12-08.1.log"));
        Slot d = new Slot("d/2026-12-08.jsonl", root.resolve("d/2026-12-08.jsonl"), 2, c);
        assertThat(d.pathOf(2)).isEqualTo(root.resolve("d/2026-12-08.2.jsonl"));
    }
}
