package io.signalbox.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;

import org.junit.jupiter.api.Test;

class QueryViewTest {
    @Test
    void vectorIsATableOfSeriesAndValues() throws Exception {
        String json = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                + "{\"metric\":{\"__name__\":\"cpu_usage\",\"source\":\"web\"},\"value\":[1700000000,\"59\"]},"
                + "{\"metric\":{\"source\":\"db\"},\"value\":[1700000000,\"20.5\"]}]}}";
        assertThat(QueryView.render(Json.map(Json.parse(json)), ZoneId.of("UTC"))).containsExactly(
                "SERIES" + " ".repeat(17) + "  VALUE",
                "cpu_usage{source=\"web\"}  59",
                "{source=\"db\"}" + " ".repeat(10) + "  20.5");
    }

    @Test
    void matrixListsEachSeriesThenItsPoints() throws Exception {
        String json = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                + "{\"metric\":{\"source\":\"web\"},\"values\":[[1700000000,\"1\"],[1700000060.5,\"2\"]]}]}}";
        assertThat(QueryView.render(Json.map(Json.parse(json)), ZoneId.of("UTC"))).containsExactly(
                "{source=\"web\"}", "  2023-11-14 22:13:20  1", "  2023-11-14 22:14:20  2");
    }

    @Test
    void durations() {
        assertThat(Main.durationSeconds("1h30m", "--range")).isEqualTo(5400);
        assertThat(Main.durationSeconds("90", "--step")).isEqualTo(90);
        assertThatThrownBy(() -> Main.durationSeconds("1x", "--range")).hasMessageContaining("not a duration");
    }
}
