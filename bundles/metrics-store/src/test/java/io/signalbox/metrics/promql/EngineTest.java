package io.signalbox.metrics.promql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.Scalar;
import io.signalbox.metrics.promql.Values.Vector;

/** The engine against hand-computed values (Prometheus' semantics, worked out in the comments). */
public class EngineTest {
    static final long LOOKBACK = 300_000;

    /**
     * Counter {@code reqs}: every 10 s from 10 s to 60 s, reset between 30 s and 40 s.
     * Gauge {@code temp}: 2, 4, 6, 8 at 15, 30, 45, 60 s. Counter {@code fresh} starts after 0.
     */
    public static ListStorage data() {
        return new ListStorage()
                .series(new String[] {"__name__", "reqs", "source", "api"}, 10, 10, 20, 20, 30, 30, 40, 5, 50, 15, 60, 25)
                .series(new String[] {"__name__", "fresh", "source", "api"}, 30, 5, 40, 10, 50, 15, 60, 20)
                .series(new String[] {"__name__", "temp", "source", "a", "region", "eu"}, 15, 2, 30, 4, 45, 6, 60, 8)
                .series(new String[] {"__name__", "temp", "source", "b", "region", "eu"}, 60, 10)
                .series(new String[] {"__name__", "temp", "source", "c", "region", "us"}, 60, 1)
                .series(new String[] {"__name__", "temp", "source", "ab", "region", "us"}, 60, 100);
    }

    static double one(String q, long tSeconds) {
        Vector v = vector(q, tSeconds);
        assertThat(v.samples()).as(q).hasSize(1);
        return v.samples().get(0).value();
    }

    static Vector vector(String q, long tSeconds) {
        return (Vector) new Engine(data(), LOOKBACK).instant(Parser.parse(q), tSeconds * 1000);
    }

    @Test
    void rateAndIncreaseHandleACounterReset() {
        // window (0, 60]: raw increase 25 - 10 + 30 (the reset: 30 -> 5 adds 30) = 45 over 50 s of samples;
        // 10 s to the window start < 1.1 x the 10 s average: extrapolate to 60 s -> 45 * 60 / 50 = 54
        assertThat(one("increase(reqs[1m])", 60)).isCloseTo(54.0, within(1e-9));
        assertThat(one("rate(reqs[1m])", 60)).isCloseTo(0.9, within(1e-9));
    }

    @Test
    void rateExtrapolatesNoFurtherThanTheCounterWasZero() {
        // (0, 60]: 5 -> 20 = 15 over 30 s; the start is 30 s away but zero was reached 10 s before
        // the first sample (30 * 5 / 15): extrapolate 30 + 10 = 40 s -> 15 * 40 / 30 = 20
        assertThat(one("increase(fresh[1m])", 60)).isCloseTo(20.0, within(1e-9));
        assertThat(one("rate(fresh[60s])", 60)).isCloseTo(20.0 / 60, within(1e-9));
    }

    @Test
    void rateNeedsTwoSamples() {
        assertThat(vector("rate(reqs[10s])", 60).samples()).isEmpty(); // (50, 60]: one sample
    }

    @Test
    void overTimeFunctionsUseALeftOpenWindow() {
        String a = "temp{source=\"a\"}";
        assertThat(one("avg_over_time(" + a + "[1m])", 60)).isEqualTo(5.0);
        assertThat(one("avg_over_time(" + a + "[45s])", 60)).isEqualTo(6.0); // 15 s is outside (15, 60]
        assertThat(one("min_over_time(" + a + "[1m])", 60)).isEqualTo(2.0);
        assertThat(one("max_over_time(" + a + "[1m])", 60)).isEqualTo(8.0);
        assertThat(one("sum_over_time(" + a + "[1m])", 60)).isEqualTo(20.0);
        assertThat(one("count_over_time(" + a + "[1m])", 60)).isEqualTo(4.0);
        assertThat(one("last_over_time(" + a + "[1m])", 45)).isEqualTo(6.0);
        // rank 0.5 * 3 = 1.5 -> between 4 and 6; rank 0.9 * 3 = 2.7 -> 6 * 0.3 + 8 * 0.7
        assertThat(one("quantile_over_time(0.5, " + a + "[1m])", 60)).isEqualTo(5.0);
        assertThat(one("quantile_over_time(0.9, " + a + "[1m])", 60)).isCloseTo(7.4, within(1e-9));
    }

    @Test
    void functionsDropTheNameButLastOverTimeKeepsIt() {
        assertThat(vector("avg_over_time(temp{source=\"a\"}[1m])", 60).samples().get(0).labels())
                .isEqualTo(Map.of("source", "a", "region", "eu"));
        assertThat(vector("last_over_time(temp{source=\"a\"}[1m])", 60).samples().get(0).labels())
                .containsEntry("__name__", "temp");
    }

    @Test
    void instantSelectorsLookBackFiveMinutesExclusive() {
        assertThat(one("temp{source=\"b\"}", 60 + 299)).isEqualTo(10.0);
        assertThat(vector("temp{source=\"b\"}", 60 + 300).samples()).isEmpty();
        assertThat(one("temp{source=\"a\"}", 50)).isEqualTo(6.0); // latest at or before t
    }

    @Test
    void matchersAreAnchoredRegexesAndNegations() {
        assertThat(sources(vector("temp{source=~\"a|b\"}", 60))).containsExactly("a", "b");
        assertThat(sources(vector("temp{source!~\"a|b\"}", 60))).containsExactly("ab", "c");
        assertThat(sources(vector("temp{region!=\"eu\"}", 60))).containsExactly("ab", "c");
        assertThat(sources(vector("{__name__=\"temp\", source=\"c\"}", 60))).containsExactly("c");
        assertThat(sources(vector("{\"temp\", source=\"c\"}", 60))).containsExactly("c");
    }

    @Test
    void aggregationsGroupByAndWithout() {
        // at 60 s: a=8 (eu), b=10 (eu), c=1 (us), ab=100 (us)
        Vector sum = vector("sum by (region) (temp)", 60);
        assertThat(sum.samples()).containsExactly(new Sample(Map.of("region", "eu"), 18),
                new Sample(Map.of("region", "us"), 101));
        assertThat(vector("sum without (source) (temp)", 60).samples()).containsExactly(
                new Sample(Map.of("region", "eu"), 18), new Sample(Map.of("region", "us"), 101));
        assertThat(one("sum(temp)", 60)).isEqualTo(119.0);
        assertThat(one("avg(temp)", 60)).isEqualTo(29.75);
        assertThat(one("min(temp)", 60)).isEqualTo(1.0);
        assertThat(one("max(temp)", 60)).isEqualTo(100.0);
        assertThat(one("count(temp)", 60)).isEqualTo(4.0);
        assertThat(vector("count(temp) by (region)", 60).samples()).extracting(Sample::value).containsExactly(2.0, 2.0);
        List<Sample> top = vector("topk(2, temp)", 60).samples();
        assertThat(top).extracting(Sample::value).containsExactly(100.0, 10.0);
        assertThat(top.get(0).labels()).containsEntry("__name__", "temp").containsEntry("source", "ab");
        assertThat(vector("topk by (region) (1, temp)", 60).samples()).extracting(Sample::value)
                .containsExactlyInAnyOrder(10.0, 100.0);
        assertThat(one("sum(avg_over_time(temp{source=\"a\"}[1m]))", 60)).isEqualTo(5.0);
    }

    @Test
    void arithmeticAndComparisonWithScalars() {
        assertThat(one("temp{source=\"a\"} * 2 + 1", 60)).isEqualTo(17.0);
        assertThat(one("100 - temp{source=\"a\"}", 60)).isEqualTo(92.0);
        assertThat(one("temp{source=\"a\"} % 3", 60)).isEqualTo(2.0);
        assertThat(vector("temp{source=\"a\"} * 2", 60).samples().get(0).labels()).doesNotContainKey("__name__");
        Vector filtered = vector("temp > 5", 60);
        assertThat(sources(filtered)).containsExactly("a", "ab", "b");
        assertThat(filtered.samples().get(0).labels()).containsEntry("__name__", "temp");
        assertThat(vector("temp > bool 5", 60).samples()).extracting(Sample::value).containsExactly(1.0, 1.0, 1.0, 0.0);
        assertThat(vector("temp <= 8", 60).samples()).hasSize(2);
        Engine e = new Engine(data(), LOOKBACK);
        assertThat(e.instant(Parser.parse("2 ^ 3 ^ 2"), 0)).isEqualTo(new Scalar(512));
        assertThat(e.instant(Parser.parse("-2 ^ 2"), 0)).isEqualTo(new Scalar(-4));
        assertThat(e.instant(Parser.parse("1 + 2 * 3"), 0)).isEqualTo(new Scalar(7));
        assertThat(e.instant(Parser.parse("(1 + 2) * 3"), 0)).isEqualTo(new Scalar(9));
        assertThat(e.instant(Parser.parse("1 > bool 2"), 0)).isEqualTo(new Scalar(0));
        assertThatThrownBy(() -> e.instant(Parser.parse("1 > 2"), 0)).hasMessageContaining("BOOL");
        assertThatThrownBy(() -> e.instant(Parser.parse("temp / temp"), 60_000)).isInstanceOf(PromQLException.class)
                .hasMessageContaining("two vectors");
    }

    @Test
    void rangeQueryEvaluatesEveryStep() {
        Engine.RangeResult r = new Engine(data(), LOOKBACK).range(Parser.parse("temp{source=\"a\"} * 10"), 15_000, 60_000, 15_000);
        assertThat(r.series()).hasSize(1);
        assertThat(r.series().get(0).timestamps()).containsExactly(15_000, 30_000, 45_000, 60_000);
        assertThat(r.series().get(0).values()).containsExactly(20, 40, 60, 80);
        Engine.RangeResult rate = new Engine(data(), LOOKBACK).range(Parser.parse("increase(reqs[1m])"), 60_000, 60_000, 1000);
        assertThat(rate.series().get(0).values()[0]).isCloseTo(54.0, within(1e-9));
        assertThatThrownBy(() -> new Engine(data(), LOOKBACK).range(Parser.parse("temp[1m]"), 0, 60_000, 15_000))
                .hasMessageContaining("range vector");
    }

    @Test
    void aLabelSetThatCollidesAfterDroppingTheNameIsAnError() {
        ListStorage s = new ListStorage().series(new String[] {"__name__", "x", "source", "a"}, 1, 1)
                .series(new String[] {"__name__", "y", "source", "a"}, 1, 2);
        assertThatThrownBy(() -> new Engine(s, LOOKBACK).instant(Parser.parse("{source=\"a\"} * 2"), 1000))
                .hasMessageContaining("same labelset");
    }

    private static List<String> sources(Vector v) {
        return v.samples().stream().map(s -> s.labels().get("source")).sorted().toList();
    }
}
