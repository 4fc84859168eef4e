package io.signalbox.alerting.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.Storage;
import io.signalbox.metrics.promql.Values.SeriesData;
import io.signalbox.metrics.promql.Values.Vector;
import io.signalbox.metrics.store.MetricStore.LabeledSample;

class MergedStorageTest {
    private static final Map<String, String> WEB = Map.of("__name__", "cpu_usage", "source", "web");

    /** The committed part: samples at 10 s and 20 s. */
    private static final Storage STORE = new Storage() {
        @Override
        public List<SeriesData> select(List<Matcher> matchers, long from, long to) {
            SeriesData s = new SeriesData(WEB, new long[] {10_000, 20_000}, new double[] {70, 80});
            return RecentSamples.matchesAll(matchers, WEB) && from < 20_000 ? List.of(s) : List.of();
        }
    };

    @Test
    void aSampleNotYetInTheStoreIsSeenAndOneInBothCountsOnce() {
        RecentSamples recent = new RecentSamples(60_000, 1000);
        recent.add(new LabeledSample(WEB, 20_000, 80)); // also committed
        recent.add(new LabeledSample(WEB, 30_000, 120)); // not yet
        Engine e = new Engine(new MergedStorage(STORE, recent), 300_000);
        Vector latest = (Vector) e.instant(Parser.parse("cpu_usage > 100"), 30_000);
        assertThat(latest.samples()).singleElement().satisfies(s -> assertThat(s.value()).isEqualTo(120));
        Vector avg = (Vector) e.instant(Parser.parse("avg_over_time(cpu_usage[1m])"), 30_000);
        assertThat(avg.samples().get(0).value()).isEqualTo((70 + 80 + 120) / 3.0);
    }

    @Test
    void recentSamplesArePrunedByAgeAndCapped() {
        RecentSamples r = new RecentSamples(1000, 3);
        for (int i = 0; i < 5; i++) {
            r.add(new LabeledSample(WEB, i * 100, i));
        }
        assertThat(r.size()).isEqualTo(3);
        assertThat(r.dropped()).isEqualTo(2);
        r.prune(1300);
        assertThat(r.size()).isEqualTo(2);
    }
}
