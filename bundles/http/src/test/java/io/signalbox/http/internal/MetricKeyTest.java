package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class MetricKeyTest {

    @Test
    void plainNameHasNoLabels() throws Exception {
        MetricKey k = MetricKey.parse("signalbox_active_connections");
        assertThat(k.name()).isEqualTo("signalbox_active_connections");
        assertThat(k.labelNames()).isEmpty();
    }

    @Test
    void labelsKeepTheirOrderAndValuesAreUnescaped() throws Exception {
        MetricKey k = MetricKey.parse("signalbox_x_bucket{backend=\"db \\\"main\\\"\",path=\"C:\\\\tmp\\nnext\",le=\"+Inf\"}");
        assertThat(k.name()).isEqualTo("signalbox_x_bucket");
        assertThat(k.labelNames()).containsExactly("backend", "path", "le");
        assertThat(k.labelValues()).containsExactly("db \"main\"", "C:\\tmp\nnext", "+Inf");
        assertThat(k.label("le")).isEqualTo("+Inf");
        assertThat(k.without("le").labelNames()).containsExactly("backend", "path");
    }

    @Test
    void commasBracesAndEqualsInsideValuesAreData() throws Exception {
        MetricKey k = MetricKey.parse("m{a=\"x,y=}{\",b=\"\"}");
        assertThat(k.labelValues()).isEqualTo(List.of("x,y=}{", ""));
    }

    @Test
    void malformedKeysAreRejectedWithAReason() {
        for (String bad : new String[] { "", "1abc", "has-dash", "has space", "m{", "m{a}", "m{a=b}", "m{a=\"b}",
            "m{a=\"b\"", "m{a=\"b\";c=\"d\"}", "m{a=\"b\",}", "m{a-b=\"c\"}", "m{__name__=\"x\"}",
            "m{a=\"1\",a=\"2\"}", "m{a=\"\\t\"}", "{a=\"b\"}" }) {
            assertThatThrownBy(() -> MetricKey.parse(bad)).as(bad).isInstanceOf(MetricKey.BadKey.class)
                    .hasMessageNotContaining("null");
        }
    }
}
