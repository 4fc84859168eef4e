package io.signalbox.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The CLI's JSON reader: document order, the Java types it promises, no nesting limit. */
class JsonTest {
    @Test
    void integersAreLongsFractionsAndHugeIntegersAreDoubles() throws IOException {
        Map<String, Object> doc = Json.map(Json.parse("{\"n\":12,\"f\":1.5,\"big\":123456789012345678901234567890}"));

        assertThat(doc.get("n")).isEqualTo(12L);
        assertThat(doc.get("f")).isEqualTo(1.5);
        assertThat(doc.get("big")).isInstanceOf(Double.class);
        assertThat(Json.string(doc, "n")).isEqualTo("12");
    }

    @Test
    void objectsKeepTheirOrderAndScalarsAreReadAsThemselves() throws IOException {
        Map<String, Object> doc = Json.map(Json.parse("{\"b\":true,\"a\":null,\"c\":[\"x\",false]}"));

        assertThat(doc.keySet()).containsExactly("b", "a", "c");
        assertThat(doc).containsEntry("b", true).containsEntry("a", null).containsEntry("c", List.of("x", false));
        assertThat(Json.parse("\"only\"")).isEqualTo("only");
    }

    @Test
    void nestingHasNoLimitAndATruncatedDocumentIsAnError() throws IOException {
        int depth = 10_000;
        Object o = Json.parse("[".repeat(depth) + "]".repeat(depth));
        for (int i = 1; i < depth; i++) {
            o = Json.list(o).get(0);
        }
        assertThat(Json.list(o)).isEmpty();
        assertThatThrownBy(() -> Json.parse("{\"a\":[1,2")).isInstanceOf(IOException.class);
    }
}
