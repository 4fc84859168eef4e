package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.Values.Vector;

/**
 * The store's benchmark (load/bench-metrics-store.sh runs it; skipped in normal builds): ingest
 * rate through the Appender, bytes per point on disk, and query times over what was ingested.
 * Prints numbers; asserts only that the answers are right, never a time.
 */
@EnabledIfSystemProperty(named = "bench.points", matches = "\\d+")
class StoreBenchmark {
    @TempDir
    Path dir;

    @Test
    void ingestQueryAndSize() throws Exception {
        long points = Long.getLong("bench.points");
        int series = Integer.getInteger("bench.series", 1000);
        int sources = 10;
        long perSeries = points / series;
        long step = 10_000; // a sample every 10 s per series: a regular scrape-like series
        long t0 = 1_700_000_000_000L;
        DuckStore store = new DuckStore(new DuckStore.Settings(dir, 100_000, 0, Integer.getInteger("bench.memory.mb", 1024),
                2, 200_000_000L));
        MetricLine[] lines = new MetricLine[series];
        String[] src = new String[series];
        for (int s = 0; s < series; s++) {
            TreeMap<String, String> tags = new TreeMap<>();
            tags.put("instance", "i" + s);
            lines[s] = new MetricLine("bench", 0, null, tags);
            src[s] = "svc" + (s % sources);
        }
        long start = System.nanoTime();
        long n = 0;
        for (long k = 0; k < perSeries; k++) {
            long ts = t0 + k * step;
            for (int s = 0; s < series; s++) {
                // a gauge that moves a little, like real data (not a constant, which compresses to nothing)
                double v = 50 + ((k * 7 + s * 13) % 100) / 4.0;
                store.append(src[s], ts, new MetricLine("bench", v, null, lines[s].tags()));
                n++;
            }
            if (k % 100 == 99) {
                store.flush(); // a commit per 100 x series points, like the 1 s flush under load
            }
        }
        store.flush();
        double ingestS = (System.nanoTime() - start) / 1e9;
        long end = t0 + (perSeries - 1) * step;
        store.enforceRetention(end); // checkpoint: the WAL folded into the file
        long bytes = Files.size(dir.resolve(DuckStore.FILE));
        report("points", n);
        report("series", series);
        report("ingest_seconds", ingestS);
        report("ingest_points_per_second", n / ingestS);
        report("file_bytes", bytes);
        report("bytes_per_point", bytes / (double) n);

        Engine engine = new Engine(store, 300_000);
        String whole = (end - t0) / 1000 + 10 + "s";
        for (String q : List.of("avg_over_time(bench[" + whole + "])", "sum by (source) (avg_over_time(bench[" + whole + "]))",
                "sum by (source) (bench)", "max_over_time(bench{source=\"svc3\"}[" + whole + "])")) {
            for (int run = 0; run < 3; run++) {
                long qs = System.nanoTime();
                Vector v = (Vector) engine.instant(Parser.parse(q), end);
                double ms = (System.nanoTime() - qs) / 1e6;
                assertThat(v.samples()).isNotEmpty();
                report("query_ms[" + q + "] run " + run, ms);
            }
        }
        for (int run = 0; run < 3; run++) {
            long qs = System.nanoTime();
            // GET /query's work: one series (name bench has all of them; one instance via select) over an hour
            var one = store.select(List.of(io.signalbox.metrics.promql.Matcher.of("instance", "=", "i7")),
                    end - 3_600_000, end);
            double ms = (System.nanoTime() - qs) / 1e6;
            assertThat(one.get(0).size()).isEqualTo((int) Math.min(360, perSeries));
            report("raw_one_series_1h_ms run " + run, ms);
        }
        long qs = System.nanoTime();
        List<DuckStore.RawPoint> raw = store.raw("bench", end - 3_600_000, end, 10_000_000);
        report("raw_all_series_1h_points", raw.size());
        report("raw_all_series_1h_ms", (System.nanoTime() - qs) / 1e6);
        store.close();
    }

    private static void report(String what, double value) {
        System.out.printf(Locale.ROOT, "BENCH %s = %.3f%n", what, value);
    }
}
