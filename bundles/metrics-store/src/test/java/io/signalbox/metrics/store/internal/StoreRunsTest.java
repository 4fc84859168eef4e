package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Points stored as runs ({@code point_runs}: a series' points of one chunk as two lists) answer every query
 * exactly as points stored as rows do, and retention and the size cap cut runs at the exact timestamp.
 */
class StoreRunsTest {
    static final long DAY = 86_400_000L;

    @TempDir
    Path dir;

    DuckStore open(Path d, int runMinPoints) throws Exception {
        return new DuckStore(new DuckStore.Settings(d, 15, 0, 64, 1, 10_000_000, Integer.MAX_VALUE, 0, runMinPoints));
    }

    /** 24 series: dense ones (a point every 10 s), sparse ones (hourly), late and repeated points. */
    static void feed(DuckStore s, long now, long seed) throws Exception {
        Random r = new Random(seed);
        int sinceFlush = 0;
        for (long t = now - 20 * DAY; t < now; t += 10_000) {
            for (int k = 0; k < 24; k++) {
                boolean dense = k < 8;
                if (!dense && (t / 10_000) % 360 != k * 7) {
                    continue;
                }
                s.append("src" + (k % 4), t + k, DuckStoreTest.m("m" + (k % 3), r.nextInt(100_000) / 16.0, "i", "i" + k));
                if (r.nextInt(5_000) == 0) { // a late point, and the same sample delivered twice
                    s.append("src1", t - 3 * 3_600_000L, DuckStoreTest.m("m1", 7.25, "i", "i1"));
                    s.append("src1", t - 3 * 3_600_000L, DuckStoreTest.m("m1", 7.25, "i", "i1"));
                }
            }
            if (++sinceFlush >= 400 + r.nextInt(1_200)) { // flushes of uneven size: runs of many lengths
                s.flush();
                sinceFlush = 0;
            }
        }
        s.flush();
    }

    @Test
    void runsAnswerEveryQueryLikeRows() throws Exception {
        long now = 60 * DAY;
        try (DuckStore rows = open(dir.resolve("rows"), Integer.MAX_VALUE); DuckStore runs = open(dir.resolve("runs"), 16)) {
            feed(rows, now, 5);
            feed(runs, now, 5);
            assertThat(rows.countRows("point_runs")).isZero();
            long total = rows.countRows("points");
            assertThat(runs.countRows("point_runs")).as("dense series in runs").isGreaterThan(total / 2);
            assertThat(runs.countRows("points")).as("sparse series as rows").isPositive();
            assertThat(runs.countRows("point_runs") + runs.countRows("points")).isEqualTo(total);

            List<String> queries = List.of("avg_over_time(m0[30d])", "sum by (source) (avg_over_time(m1[2h]))",
                    "max_over_time(m0{i=\"i4\"}[3d])", "count_over_time(m1[30d])", "sum_over_time(m2[1h])", "rate(m1[10m])",
                    "increase(m0[1h])", "last_over_time(m0[1d])", "quantile_over_time(0.5, m1{source=\"src1\"}[1d])",
                    "min_over_time(m2[5m])", "sum by (source) (m0)", "count(m1)", "topk(3, m2)");
            List<Long> times = List.of(now - 19 * DAY, now - 5 * DAY - 7, now - 30 * 60_000, now - 1, now);
            assertThat(StoreIngestAndCompactionTest.answers(runs, queries, times))
                    .isEqualTo(StoreIngestAndCompactionTest.answers(rows, queries, times));
            assertThat(StoreIngestAndCompactionTest.snapshot(runs)).isEqualTo(StoreIngestAndCompactionTest.snapshot(rows));
            for (long from : List.of(now - 10 * DAY, now - 3_600_000L, now - 20 * DAY)) {
                assertThat(StoreIngestAndCompactionTest.raw(runs, from, from + 6 * 3_600_000L))
                        .isEqualTo(StoreIngestAndCompactionTest.raw(rows, from, from + 6 * 3_600_000L));
            }
            assertThat(runs.withPoints(runs.allSeries(), now - DAY, now - DAY + 60_000).size())
                    .isEqualTo(rows.withPoints(rows.allSeries(), now - DAY, now - DAY + 60_000).size());
        }
    }

    @Test
    void retentionCutsRunsAtTheExactTimestampAndSurvivesReopening() throws Exception {
        long now = 60 * DAY;
        List<String> expected;
        long deleted;
        try (DuckStore s = open(dir, 16)) {
            feed(s, now, 9);
            long cutoff = now - 15 * DAY;
            List<String> all = StoreIngestAndCompactionTest.snapshot(s);
            expected = new ArrayList<>();
            for (String p : all) {
                long ts = tsOf(p);
                if (ts >= cutoff) {
                    expected.add(p);
                }
            }
            long before = s.countRows("point_runs") + s.countRows("points");
            s.enforceRetention(now);
            deleted = s.retentionDeleted.sum();
            assertThat(StoreIngestAndCompactionTest.snapshot(s)).isEqualTo(expected);
            assertThat(s.countRows("point_runs") + s.countRows("points")).isEqualTo(before - deleted);
            assertThat(s.raw("m0", 0, cutoff - 1, 10)).isEmpty();
            assertThat(s.raw("m0", cutoff, cutoff + 60_000, 1000)).isNotEmpty();
        }
        try (DuckStore s = open(dir, 16)) {
            assertThat(StoreIngestAndCompactionTest.snapshot(s)).as("after reopening").isEqualTo(expected);
        }
    }

    @Test
    void sizeCapDeletesTheOldestPointsAcrossRunsAndRows() throws Exception {
        long now = 60 * DAY;
        try (DuckStore s = new DuckStore(new DuckStore.Settings(dir, 100, 600_000, 64, 1, 10_000_000, Integer.MAX_VALUE, 0, 16))) {
            feed(s, now, 11);
            List<String> all = StoreIngestAndCompactionTest.snapshot(s);
            s.enforceRetention(now);
            List<String> kept = StoreIngestAndCompactionTest.snapshot(s);
            assertThat(kept.size()).isLessThan(all.size()).isPositive();
            // what is kept is exactly the newest points: everything at or after the oldest kept timestamp
            long oldest = Long.MAX_VALUE;
            for (String p : kept) {
                oldest = Math.min(oldest, tsOf(p));
            }
            List<String> newest = new ArrayList<>();
            for (String p : all) {
                if (tsOf(p) >= oldest) {
                    newest.add(p);
                }
            }
            assertThat(kept).isEqualTo(newest);
        }
    }

    /** The timestamp of a {@link StoreIngestAndCompactionTest#snapshot} line ("labels ts value"). */
    static long tsOf(String point) {
        String[] f = point.split(" ");
        return Long.parseLong(f[f.length - 2]);
    }

    @Test
    void grouperKeepsArrivalOrderWithinEachSeries() {
        Random r = new Random(1);
        DuckStore.RunGrouper g = new DuckStore.RunGrouper();
        for (int round = 0; round < 50; round++) {
            int n = 1 + r.nextInt(5_000);
            int[] ids = new int[n + 3];
            int distinct = 1 + r.nextInt(round % 2 == 0 ? 10 : 3_000);
            for (int i = 0; i < n; i++) {
                ids[i] = 1 + r.nextInt(distinct) * 7919;
            }
            g.group(ids, n);
            Map<Integer, List<Integer>> want = new java.util.LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                want.computeIfAbsent(ids[i], k -> new ArrayList<>()).add(i);
            }
            Map<Integer, List<Integer>> got = new java.util.LinkedHashMap<>();
            for (int k = 0; k < g.groups; k++) {
                List<Integer> idx = new ArrayList<>();
                for (int j = g.start[k]; j < g.start[k + 1]; j++) {
                    idx.add(g.order[j]);
                }
                got.put(g.groupId[k], idx);
            }
            assertThat(got).isEqualTo(want);
            assertThat(new ArrayList<>(got.keySet())).isEqualTo(new ArrayList<>(want.keySet()));
        }
    }
}
