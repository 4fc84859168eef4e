package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.Values.Vector;

/**
 * The store's benchmark (load/bench-metrics-store.sh runs it; skipped in normal builds): ingest
 * rate of canonical metric lines through {@link DuckStore#appendBatch} (the scanner, series interning and the
 * Appender), compaction, bytes per point on disk, and query times over what was ingested.
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
                Integer.getInteger("bench.threads", 2), 200_000_000L, Integer.MAX_VALUE, Long.getLong("bench.compact.window.ms", DuckStore.DEFAULT_COMPACT_WINDOW_MS)));
        // the canonical lines as the protocol decoder hands them on: 100 value variants per series
        int variants = 100;
        String[] src = new String[sources];
        for (int i = 0; i < sources; i++) {
            src[i] = "svc" + i;
        }
        byte[][][] lines = new byte[series][variants][];
        for (int s = 0; s < series; s++) {
            for (int v = 0; v < variants; v++) {
                // a gauge that moves a little, like real data (not a constant, which compresses to nothing)
                lines[s][v] = ("{\"v\":1,\"src\":\"" + src[s % sources] + "\",\"ts\":1700000000000,\"type\":\"metric\","
                        + "\"data\":{\"name\":\"bench\",\"value\":" + (50 + v / 4.0) + ",\"tags\":{\"instance\":\"i" + s + "\"}}}")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        DuckStore.Outcome failOnLoss = new DuckStore.Outcome() {
            @Override
            public void invalid(io.signalbox.api.Message m, String reason) {
                throw new AssertionError(reason);
            }

            @Override
            public void filtered() {
                throw new AssertionError("filtered");
            }

            @Override
            public void seriesLimited(String name, String source) {
                throw new AssertionError("limited");
            }
        };
        Globs all = new Globs(new String[] {"*"});
        int perSource = series / sources;
        long start = System.nanoTime();
        long n = 0;
        List<io.signalbox.api.Message> batch = new java.util.ArrayList<>(perSource);
        for (long k = 0; k < perSeries; k++) {
            long ts = t0 + k * step;
            for (int sc = 0; sc < sources; sc++) {
                batch.clear();
                for (int j = 0; j < perSource; j++) {
                    int s = j * sources + sc;
                    batch.add(new io.signalbox.api.Message(src[sc], ts, io.signalbox.api.MessageType.METRIC, null, null, null,
                            null, null, lines[s][(int) ((k * 7 + s * 13) % variants)]));
                }
                store.appendBatch(src[sc], batch, all, failOnLoss); // one routing batch per source and round
                n += perSource;
            }
            if (k % 100 == 99) {
                store.flush(); // a commit per 100 x series points, like the 1 s flush under load
            }
        }
        store.flush();
        double ingestS = (System.nanoTime() - start) / 1e9;
        long end = t0 + (perSeries - 1) * step;
        long hotBytes = Files.size(dir.resolve(DuckStore.FILE));
        long cs = System.nanoTime();
        store.enforceRetention(end); // compaction of every whole hour but the last, then a checkpoint
        double compactS = (System.nanoTime() - cs) / 1e9;
        long bytes = Files.size(dir.resolve(DuckStore.FILE));
        report("points", n);
        report("series", series);
        report("ingest_seconds", ingestS);
        report("ingest_points_per_second", n / ingestS);
        report("file_bytes_before_compaction", hotBytes);
        report("compaction_and_checkpoint_seconds", compactS);
        report("points_compacted", store.countRows("points_cold"));
        report("points_recent", store.countRows("points"));
        report("file_bytes", bytes);
        report("used_bytes", store.usedBytes());
        report("file_bytes_per_point", bytes / (double) n);
        report("used_bytes_per_point", store.usedBytes() / (double) n);
        store.storageReport((table, column, compression, segments, rows) -> System.out.printf(Locale.ROOT,
                "BENCH storage %s.%s %s: %d segments/blocks, %d values/bytes%n", table, column, compression, segments, rows));

        Engine engine = new Engine(store, 300_000);
        String whole = (end - t0) / 1000 + 10 + "s";
        for (String q : List.of("avg_over_time(bench[" + whole + "])", "sum by (source) (avg_over_time(bench[" + whole + "]))",
                "sum by (source) (bench)", "max_over_time(bench{source=\"svc3\"}[" + whole + "])")) {
            for (int run = 0; run < 5; run++) {
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
