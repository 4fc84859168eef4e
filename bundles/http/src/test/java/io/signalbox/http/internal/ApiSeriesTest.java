package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class ApiSeriesTest {
    @Test
    void aNameWithoutLabels() {
        assertThat(ApiSeries.parse("signalbox_sources_active"))
                .isEqualTo(new ApiSeries("signalbox_sources_active", Map.of()));
    }

    @Test
    void labelsAreSplitAndTheirValuesUnescaped() {
        ApiSeries s = ApiSeries.parse("x_bucket{source=\"a,b \\\"c\\\" \\\\ \\n\",le=\"+Inf\"}");

        assertThat(s.name()).isEqualTo("x_bucket");
        assertThat(s.labels()).containsExactly(Map.entry("source", "a,b \"c\" \\ \n"), Map.entry("le", "+Inf"));
    }

    @Test
    void brokenKeysAreNull() {
        assertThat(ApiSeries.parse("")).isNull();
        assertThat(ApiSeries.parse("{a=\"b\"}")).isNull();
        assertThat(ApiSeries.parse("x{a=\"b\"")).isNull();
        assertThat(ApiSeries.parse("x{a=b}")).isNull();
        assertThat(ApiSeries.parse("x{a=\"b}")).isNull();
        assertThat(ApiSeries.parse("x{a=\"b\"c=\"d\"}")).isNull();
    }
}
