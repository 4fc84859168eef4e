package io.signalbox.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonTest {
    private static String string(String s) {
        return Json.string(new StringBuilder(), s).toString();
    }

    private static String value(Object v) {
        return Json.value(new StringBuilder(), v).toString();
    }

    @Test
    void stringsAreQuotedAndEscapedPerRfc8259() {
        assertThat(string("plain")).isEqualTo("\"plain\"");
        assertThat(string("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(string("l1\nl2\r\t\b\f")).isEqualTo("\"l1\\nl2\\r\\t\\b\\f\"");
        assertThat(string("\u0000\u001f")).isEqualTo("\"\\u0000\\u001f\"");
        assertThat(string("grüße, 東京, 😀")).isEqualTo("\"grüße, 東京, 😀\"");
        assertThat(string(null)).isEqualTo("null");
    }

    @Test
    void numbersThatJsonCannotHoldBecomeNullAndIntegralDoublesHaveNoFraction() {
        assertThat(value(Double.NaN)).isEqualTo("null");
        assertThat(value(Double.POSITIVE_INFINITY)).isEqualTo("null");
        assertThat(value(Float.NEGATIVE_INFINITY)).isEqualTo("null");
        assertThat(value(50.0)).isEqualTo("50");
        assertThat(value(-3.0)).isEqualTo("-3");
        assertThat(value(12.5)).isEqualTo("12.5");
        assertThat(value(1e300)).isEqualTo("1.0E300");
        assertThat(value(42)).isEqualTo("42");
        assertThat(value(Long.MIN_VALUE)).isEqualTo("-9223372036854775808");
        assertThat(value(new BigDecimal("1.50"))).isEqualTo("1.50");
    }

    @Test
    void mapsListsAndArraysNestAndOtherObjectsAreTheirText() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of(1, "two", true));
        m.put("b", new int[] {1, 2});
        m.put("c", null);
        m.put("d", Map.of("e", 1.5));
        m.put("f", Thread.State.NEW);
        assertThat(value(m)).isEqualTo("{\"a\":[1,\"two\",true],\"b\":[1,2],\"c\":null,\"d\":{\"e\":1.5},\"f\":\"NEW\"}");
        Map<Object, Object> numericKey = new HashMap<>();
        numericKey.put(7, "x");
        assertThat(value(numericKey)).isEqualTo("{\"7\":\"x\"}");
    }

    @Test
    void aSelfReferencingMapIsCutAtTheDepthLimitInsteadOfLooping() {
        Map<String, Object> loop = new HashMap<>();
        loop.put("self", loop);
        String json = value(loop);
        assertThat(json).startsWith("{\"self\":{\"self\":");
        assertThat(json.split("\\{\"self\":", -1)).as("objects written before the cut").hasSize(Json.MAX_DEPTH + 1);
        assertThat(json).contains("\"{self=(this Map)}\"");
    }
}
