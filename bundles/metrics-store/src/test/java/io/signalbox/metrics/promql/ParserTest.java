package io.signalbox.metrics.promql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class ParserTest {
    @Test
    void parsesADashboardQuery() {
        Expr e = Parser.parse("sum by (source) (rate(http_requests_total{job=~\"api.*\", code!=\"500\"}[5m])) * 100 > bool 1");
        Expr.Binary cmp = (Expr.Binary) e;
        assertThat(cmp.op()).isEqualTo(">");
        assertThat(cmp.bool()).isTrue();
        Expr.Binary mul = (Expr.Binary) cmp.lhs();
        Expr.Aggregate sum = (Expr.Aggregate) mul.lhs();
        assertThat(sum.op()).isEqualTo("sum");
        assertThat(sum.grouping()).containsExactly("source");
        Expr.Call rate = (Expr.Call) sum.expr();
        Expr.Range r = (Expr.Range) rate.args().get(0);
        assertThat(r.rangeMs()).isEqualTo(300_000);
        assertThat(r.selector().matchers()).extracting(Matcher::toString)
                .containsExactly("__name__=\"http_requests_total\"", "job=~\"api.*\"", "code!=\"500\"");
    }

    @Test
    void durations() {
        assertThat(Parser.duration("1h30m")).isEqualTo(5_400_000);
        assertThat(Parser.duration("250ms")).isEqualTo(250);
        assertThat(Parser.duration("2d")).isEqualTo(172_800_000);
        assertThatThrownBy(() -> Parser.duration("5x")).isInstanceOf(PromQLException.class);
    }

    @Test
    void groupingAfterTheArgumentsAndTopk() {
        Expr.Aggregate a = (Expr.Aggregate) Parser.parse("topk(3, cpu) without (host)");
        assertThat(a.without()).isTrue();
        assertThat(a.grouping()).isEqualTo(List.of("host"));
        assertThat(a.param()).isEqualTo(new Expr.Num(3));
    }

    @Test
    void outsideTheSubsetIsAClearError() {
        assertThatThrownBy(() -> Parser.parse("abs(cpu)")).hasMessageContaining("function 'abs' is not supported");
        assertThatThrownBy(() -> Parser.parse("cpu and mem")).hasMessageContaining("'and' is not supported");
        assertThatThrownBy(() -> Parser.parse("cpu offset 5m")).hasMessageContaining("'offset' is not supported");
        assertThatThrownBy(() -> Parser.parse("rate(cpu[5m:1m])")).hasMessageContaining("subqueries");
        assertThatThrownBy(() -> Parser.parse("quantile(0.9, cpu)")).hasMessageContaining("aggregation 'quantile'");
        assertThatThrownBy(() -> Parser.parse("{job=~\".*\"}")).hasMessageContaining("non-empty matcher");
        assertThatThrownBy(() -> Parser.parse("rate(cpu)")).hasMessageContaining("range vector");
        assertThatThrownBy(() -> Parser.parse("cpu{job=\"a}")).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> Parser.parse("cpu{job=~\"(\"}")).hasMessageContaining("invalid regular expression");
        assertThatThrownBy(() -> Parser.parse("sum(cpu")).hasMessageContaining("expected ')'");
        assertThatThrownBy(() -> Parser.parse("")).hasMessageContaining("empty");
    }
}
