package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.ListStorage;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.SeriesData;
import io.signalbox.metrics.promql.Values.Vector;

/** The DuckDB store on a real database in a temporary folder. */
class DuckStoreTest {
    @TempDir
    Path dir;

    DuckStore open(int retentionDays) throws Exception {
        return new DuckStore(new DuckStore.Settings(dir, retentionDays, 0, 64, 1, 1_000_000));
    }

    static MetricLine m(String name, double v, String... tags) {
        TreeMap<String, String> t = new TreeMap<>();
        for (int i = 0; i < tags.length; i += 2) {
            t.put(tags[i], tags[i + 1]);
        }
        return new MetricLine(name, v, null, t);
    }

    /** The same data as {@code EngineTest}'s, written through the store. */
    static void fill(DuckStore s) throws Exception {
        for (SeriesData d : io.signalbox.metrics.promql.EngineTest.data().all()) {
            Map<String, String> l = new TreeMap<>(d.labels());
            String name = l.remove("__name__");
            String source = l.remove("source");
            for (int i = 0; i < d.size(); i++) {
                s.append(source, d.timestamps()[i], new MetricLine(name, d.values()[i], null, new TreeMap<>(l)));
            }
        }
        s.flush();
    }

    @Test
    void rawQueryReturnsPointsInTimeOrderWithSourceAndTags() throws Exception {
        try (DuckStore s = open(15)) {
            s.append("web", 2000, m("cpu_usage", 85, "host", "h1"));
            s.append("db", 1000, m("cpu_usage", 40));
            s.append("web", 3000, m("memory_usage", 75));
            s.append("web", 9000, m("cpu_usage", 90, "host", "h1"));
            s.flush();
            List<DuckStore.RawPoint> pts = s.raw("cpu_usage", 1000, 5000, 100);
            assertThat(pts).extracting(DuckStore.RawPoint::ts).containsExactly(1000L, 2000L);
            assertThat(pts.get(0).series().source()).isEqualTo("db");
            assertThat(pts.get(1).value()).isEqualTo(85.0);
            assertThat(pts.get(1).series().tags()).isEqualTo(Map.of("host", "h1"));
        }
    }

    @Test
    void duckDbRunsOneThreadForIngestAndTheConfiguredThreadsWhileQueriesRun() throws Exception {
        try (DuckStore s = new DuckStore(new DuckStore.Settings(dir, 100_000, 0, 64, 2, 1_000_000))) {
            assertThat(s.engineThreads()).as("idle / ingest only").isEqualTo(1);
            fill(s);
            assertThat(s.engineThreads()).as("after ingest").isEqualTo(1);
            try (java.sql.Connection a = s.reader(); java.sql.Connection b = s.reader()) {
                int[] seen = new int[3];
                s.withQueryThreads(a, () -> {
                    seen[0] = s.engineThreads();
                    // a second, overlapping query ends first: the first still runs with 2
                    seen[1] = s.withQueryThreads(b, s::engineThreads);
                    seen[2] = s.engineThreads();
                    return null;
                });
                assertThat(seen).containsExactly(2, 2, 2);
            }
            assertThat(s.engineThreads()).as("after the last query").isEqualTo(1);
            // answers are the same with the threads raised (and the limit error still reaches the caller)
            ListStorage ref = io.signalbox.metrics.promql.EngineTest.data();
            for (String q : List.of("avg_over_time(temp[1m])", "sum by (region) (temp)", "rate(reqs[1m])")) {
                Vector want = (Vector) new Engine(ref, 300_000).instant(Parser.parse(q), 60_000);
                Vector got = (Vector) new Engine(s, 300_000).instant(Parser.parse(q), 60_000);
                assertThat(got.samples()).as(q).hasSameSizeAs(want.samples());
                for (int i = 0; i < want.samples().size(); i++) {
                    assertThat(got.samples().get(i).value()).as(q).isCloseTo(want.samples().get(i).value(), within(1e-9));
                }
            }
            assertThat(s.engineThreads()).isEqualTo(1);
        }
    }

    /** New series go in with multi-row INSERTs: 300 = 128 + 128 + 32 + 8 + 4 rows, all of them kept across a reopen. */
    @Test
    void manyNewSeriesAtOnceAreAllStoredWithTheirTagsAndUnitAndSurviveAReopen() throws Exception {
        int n = 2 * DuckStore.SERIES_ROWS + 44;
        try (DuckStore s = open(15)) {
            for (int i = 0; i < n; i++) {
                TreeMap<String, String> tags = new TreeMap<>(Map.of("instance", "i" + i, "region", "eu"));
                assertThat(s.append("svc" + (i % 3), 1000 + i, new MetricLine("lat", i, i % 2 == 0 ? "ms" : null, tags))).isTrue();
            }
            s.flush();
            assertThat(s.seriesCount()).isEqualTo(n);
        }
        try (DuckStore s = open(15)) {
            assertThat(s.seriesCount()).isEqualTo(n);
            List<DuckStore.RawPoint> pts = s.raw("lat", 0, 10_000, 10_000);
            assertThat(pts).hasSize(n);
            for (DuckStore.RawPoint p : pts) {
                int i = (int) (p.ts() - 1000);
                assertThat(p.value()).isEqualTo(i);
                assertThat(p.series().source()).isEqualTo("svc" + (i % 3));
                assertThat(p.series().tags()).isEqualTo(Map.of("instance", "i" + i, "region", "eu"));
                assertThat(p.series().unit()).isEqualTo(i % 2 == 0 ? "ms" : null);
            }
        }
    }

    @Test
    void aNewSeriesBeyondMaxSeriesIsNotStoredWhileKnownSeriesGoOn() throws Exception {
        try (DuckStore s = new DuckStore(new DuckStore.Settings(dir, 15, 0, 64, 1, 1_000_000, 2))) {
            assertThat(s.append("web", 1000, m("requests", 1, "id", "a"))).isTrue();
            assertThat(s.append("web", 1000, m("requests", 1, "id", "b"))).isTrue();
            assertThat(s.append("web", 2000, m("requests", 1, "id", "c"))).as("a third series").isFalse();
            assertThat(s.append("web", 2000, m("requests", 2, "id", "a"))).as("a known series").isTrue();
            s.flush();
            assertThat(s.seriesCount()).isEqualTo(2);
            assertThat(s.raw("requests", 0, 5000, 100)).extracting(DuckStore.RawPoint::value).containsExactly(1.0, 1.0, 2.0);
        }
    }

    @Test
    void theStoreAnswersLikeTheReferenceEngineIncludingPushedDownAggregates() throws Exception {
        try (DuckStore s = open(100_000)) {
            fill(s);
            ListStorage ref = io.signalbox.metrics.promql.EngineTest.data();
            for (String q : List.of("rate(reqs[1m])", "increase(fresh[1m])", "avg_over_time(temp[1m])",
                    "avg_over_time(temp[45s])", "min_over_time(temp[1m])", "max_over_time(temp[1m])",
                    "sum_over_time(temp[1m])", "count_over_time(temp[1m])", "last_over_time(temp[1m])",
                    "quantile_over_time(0.9, temp[1m])", "sum by (region) (temp)", "topk(2, temp)", "temp > 5")) {
                Vector want = (Vector) new Engine(ref, 300_000).instant(Parser.parse(q), 60_000);
                Vector got = (Vector) new Engine(s, 300_000).instant(Parser.parse(q), 60_000);
                assertThat(got.samples()).as(q).hasSameSizeAs(want.samples());
                for (int i = 0; i < want.samples().size(); i++) {
                    Sample w = want.samples().get(i);
                    Sample g = got.samples().get(i);
                    assertThat(g.labels()).as(q).isEqualTo(w.labels());
                    assertThat(g.value()).as(q).isCloseTo(w.value(), within(1e-9));
                }
            }
            // the pushed-down quantile is DuckDB's quantile_cont: the same interpolation as Prometheus
            Vector q = (Vector) new Engine(s, 300_000).instant(Parser.parse("quantile_over_time(0.9, temp{source=\"a\"}[1m])"), 60_000);
            assertThat(q.samples().get(0).value()).isCloseTo(7.4, within(1e-9));
        }
    }

    /** Many sources each with its own series (the 10,000-source case): every new series is findable by its id at once and after reopening. */
    @Test
    void everyOneOfManyNewSeriesIsFoundByItsIdNowAndAfterReopening() throws Exception {
        int n = 5_000;
        try (DuckStore s = open(15)) {
            for (int i = 0; i < n; i++) {
                assertThat(s.append("src-" + i, 1000 + i, m("queue.depth", i))).isTrue();
            }
            s.flush();
            assertThat(s.seriesCount()).isEqualTo(n);
            assertThat(s.allSeries()).hasSize(n);
            // a raw query maps every row's series id back to its series: every source, none missing
            assertThat(s.raw("queue.depth", 0, 1000 + n, n)).extracting(DuckStore.RawPoint::series)
                    .extracting(Series::source).doesNotContainNull().hasSize(n).doesNotHaveDuplicates();
        }
        try (DuckStore s = open(15)) {
            assertThat(s.seriesCount()).isEqualTo(n);
            assertThat(s.append("src-new", 5_000_000, m("queue.depth", 1))).isTrue();
            s.flush();
            assertThat(s.seriesCount()).isEqualTo(n + 1);
            assertThat(s.matching(List.of(Matcher.of("source", "=", "src-new")))).singleElement()
                    .extracting(Series::id).isNotIn(s.matching(List.of(Matcher.of("source", "=", "src-0"))).get(0).id());
        }
    }

    @Test
    void dataSurvivesReopeningAndRetentionDeletesOldPoints() throws Exception {
        long day = 86_400_000L;
        long now = 100 * day;
        try (DuckStore s = open(15)) {
            s.append("web", now - 20 * day, m("cpu_usage", 1));
            s.append("web", now - 10 * day, m("cpu_usage", 2));
            s.append("old", now - 30 * day, m("gone", 3));
            s.flush();
        }
        try (DuckStore s = open(15)) {
            assertThat(s.raw("cpu_usage", 0, now, 10)).hasSize(2);
            s.enforceRetention(now);
            assertThat(s.raw("cpu_usage", 0, now, 10)).extracting(DuckStore.RawPoint::value).containsExactly(2.0);
            assertThat(s.matching(List.of(Matcher.of("__name__", "=", "gone")))).isEmpty();
            s.append("web", now, m("cpu_usage", 4)); // a series id is never reused after retention
            s.append("old", now, m("gone", 5));
            s.flush();
            assertThat(s.raw("gone", 0, now, 10)).extracting(DuckStore.RawPoint::value).containsExactly(5.0);
        }
    }

    @Test
    void aRetriedBatchDoesNotDoubleASampleInSelect() throws Exception {
        try (DuckStore s = open(15)) {
            s.append("web", 1000, m("c", 1));
            s.append("web", 1000, m("c", 1));
            s.append("web", 2000, m("c", 2));
            s.flush();
            List<SeriesData> d = s.select(List.of(Matcher.of("__name__", "=", "c")), 0, 5000);
            assertThat(d.get(0).timestamps()).containsExactly(1000, 2000);
        }
    }

    @Test
    void writesAndCommitsFromOtherThreadsThanTheOpeningOne() throws Exception {
        try (DuckStore s = open(15)) {
            Thread[] threads = new Thread[3];
            Exception[] failed = new Exception[1];
            for (int k = 0; k < threads.length; k++) {
                int base = k * 1000;
                threads[k] = new Thread(() -> {
                    try {
                        for (int i = 0; i < 500; i++) {
                            s.append("t", base + i, m("c", i));
                        }
                        s.flush();
                    } catch (Exception e) {
                        failed[0] = e;
                    }
                });
                threads[k].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(failed[0]).isNull();
            assertThat(s.raw("c", 0, 10_000, 10_000)).hasSize(1500);
        }
    }

    /**
     * Full chunks handed to a store thread (as the component does): writers on three threads, commits and
     * retention checks running beside them, retention emptying series the writers are writing to. Every
     * point must be stored once and every series kept (a series whose only points still wait in a chunk
     * must not be dropped as empty).
     */
    @Test
    void handedOffChunksKeepEveryPointAndSeriesWhileCommitsAndRetentionRun() throws Exception {
        long day = 86_400_000L;
        long now = 100 * day;
        java.util.concurrent.ExecutorService storeThread = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (DuckStore s = open(15)) {
            for (int k = 0; k < 20; k++) {
                s.append("web", now - 30 * day, m("c", -1, "k", "s" + k)); // deleted by retention below
            }
            s.flush();
            s.handOffTo(storeThread);
            int perThread = 3 * DuckStore.BUFFER_POINTS / 2;
            Thread[] writers = new Thread[3];
            java.util.concurrent.atomic.AtomicReference<Exception> failed = new java.util.concurrent.atomic.AtomicReference<>();
            for (int t = 0; t < writers.length; t++) {
                int base = t;
                writers[t] = new Thread(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            // the 20 old series and, from the middle on, 10 new ones per thread
                            String k = i < perThread / 2 ? "s" + (i % 20) : "n" + base + "_" + (i % 10);
                            s.append("web", now - day + (long) i * writers.length + base, m("c", i, "k", k));
                        }
                    } catch (Exception e) {
                        failed.compareAndSet(null, e);
                    }
                });
            }
            Thread maintenance = new Thread(() -> {
                try {
                    for (int r = 0; r < 5; r++) {
                        s.enforceRetention(now);
                        s.flush();
                    }
                } catch (Exception e) {
                    failed.compareAndSet(null, e);
                }
            });
            for (Thread t : writers) {
                t.start();
            }
            maintenance.start();
            for (Thread t : writers) {
                t.join();
            }
            maintenance.join();
            storeThread.submit(() -> { }).get(); // what was handed off has run
            s.flush();
            assertThat(failed.get()).isNull();
            long expected = (long) perThread * writers.length;
            assertThat(s.raw("c", 0, now, expected + 10)).hasSize((int) expected)
                    .allSatisfy(p -> assertThat(p.value()).isGreaterThanOrEqualTo(0));
            assertThat(s.matching(List.of(Matcher.of("__name__", "=", "c")))).hasSize(20 + 30);
        } finally {
            storeThread.shutdownNow();
        }
    }

    /**
     * A series whose old points retention deleted while its new point was still buffered (writers do not
     * wait for a retention check) is not dropped as empty: its point stays visible under its labels.
     */
    @Test
    void retentionKeepsASeriesWhosePointIsStillBuffered() throws Exception {
        long day = 86_400_000L;
        long now = 100 * day;
        try (DuckStore s = open(15)) {
            s.append("web", now - 30 * day, m("x", 1, "k", "v"));
            s.append("web", now - 30 * day, m("gone", 1));
            s.flush();
            s.beforeDropEmptySeries = () -> {
                try {
                    s.append("web", now, m("x", 2, "k", "v")); // the retention check holds the DuckDB side only
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            };
            s.enforceRetention(now);
            s.beforeDropEmptySeries = null;
            s.flush();
            assertThat(s.raw("x", 0, now, 10)).extracting(DuckStore.RawPoint::value).containsExactly(2.0);
            assertThat(s.matching(List.of(Matcher.of("__name__", "=", "gone")))).isEmpty();
        }
        try (DuckStore s = open(15)) { // and so is its series row
            assertThat(s.raw("x", 0, now, 10)).extracting(DuckStore.RawPoint::value).containsExactly(2.0);
        }
    }
}
