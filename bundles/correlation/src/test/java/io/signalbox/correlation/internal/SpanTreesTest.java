package io.signalbox.correlation.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.signalbox.api.SpanInfo;
import io.signalbox.api.SpanNode;

class SpanTreesTest {
    private static SpanRecord rec(String sid, String pid, long start) {
        return new SpanRecord(sid, pid, "src", new SpanInfo(sid, "ok", start, start + 1));
    }

    @Test
    void emptyInputGivesNoRoots() {
        assertThat(SpanTrees.build(List.of())).isEmpty();
    }

    @Test
    void aParentCycleIsCutAtItsEarliestStartingMemberSoEverySpanAppearsOnce() {
        List<SpanNode> roots = SpanTrees.build(List.of(rec("a", "c", 3), rec("b", "a", 1), rec("c", "b", 2)));

        assertThat(roots).singleElement().satisfies(r -> {
            assertThat(r.spanId()).isEqualTo("b");
            assertThat(r.children()).extracting(SpanNode::spanId).containsExactly("c");
            assertThat(r.children().get(0).children()).extracting(SpanNode::spanId).containsExactly("a");
        });
    }

    @Test
    void aSpanNamingItselfAsParentIsARoot() {
        assertThat(SpanTrees.build(List.of(rec("a", "a", 1)))).extracting(SpanNode::spanId).containsExactly("a");
    }

    @Test
    void equalStartTimesAreOrderedBySpanId() {
        List<SpanNode> roots = SpanTrees.build(List.of(rec("z", null, 5), rec("m", null, 5), rec("a", null, 6)));

        assertThat(roots).extracting(SpanNode::spanId).containsExactly("m", "z", "a");
    }

    @Test
    void aVeryDeepChainDoesNotOverflowTheStack() {
        List<SpanRecord> chain = new ArrayList<>();
        int depth = 100_000;
        for (int i = 0; i < depth; i++) {
            chain.add(rec("s" + i, i == 0 ? null : "s" + (i - 1), i));
        }

        List<SpanNode> roots = SpanTrees.build(chain);

        int levels = 0;
        for (SpanNode n = roots.get(0); n != null; n = n.children().isEmpty() ? null : n.children().get(0)) {
            levels++;
        }
        assertThat(levels).isEqualTo(depth);
    }
}
