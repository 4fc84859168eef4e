package io.signalbox.metrics.store.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.SeriesData;
import io.signalbox.metrics.promql.Values.Vector;

/**
 * The batch ingest path (scanner + series interning by bytes + sorted drain) against the reference path
 * (Jackson + {@link DuckStore#append}), and compaction: every query answers the same before and after,
 * retention still deletes, late points still count.
 */
class StoreIngestAndCompactionTest {
    @TempDir
    Path dir;

    static final Globs ALL = new Globs(new String[] {"*"});

    /** Counts what appendBatch did not store. */
    static final class Counts implements DuckStore.Outcome {
        final List<String> invalid = new ArrayList<>();
        int filtered;
        int limited;

        @Override
        public void invalid(Message m, String reason) {
            invalid.add(reason);
        }

        @Override
        public void filtered() {
            filtered++;
        }

        @Override
        public void seriesLimited(String name, String source) {
            limited++;
        }
    }

    static Message msg(String source, long ts, String line) {
        return new Message(source, ts, MessageType.METRIC, null, null, null, null, null, line.getBytes(StandardCharsets.UTF_8));
    }

    static String line(String source, long ts, String data) {
        return "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"metric\",\"data\":" + data + "}";
    }

    DuckStore open(Path d, int retentionDays, int maxSeries, long window) throws Exception {
        return new DuckStore(new DuckStore.Settings(d, retentionDays, 0, 64, 1, 10_000_000, maxSeries, window));
    }

    @Test
    void oneSeriesWhateverTheBytesSayItWith() throws Exception {
        try (DuckStore s = open(dir, 15, 100, 0)) {
            Counts c = new Counts();
            s.appendBatch("web", List.of(
                    msg("web", 1000, line("web", 1000, "{\"name\":\"cpu\",\"value\":1,\"tags\":{\"a\":\"1\",\"b\":\"2\"}}")),
                    msg("web", 2000, line("web", 2000, "{\"name\":\"cpu\",\"value\":2,\"tags\":{\"b\":\"2\",\"a\":\"1\"}}")),
                    msg("web", 3000, line("web", 3000, "{\"tags\": {\"a\":\"1\", \"b\":\"2\"}, \"value\":3, \"name\":\"cpu\"}")),
                    // an escape: the scanner declines, Jackson reads "cpu"
                    msg("web", 4000, line("web", 4000, "{\"name\":\"c\\u0070u\",\"value\":4,\"tags\":{\"a\":\"1\",\"b\":\"2\"}}")),
                    msg("web", 5000, line("web", 5000, "{\"name\":\"cpu\",\"value\":5,\"tags\":{\"a\":\"1\",\"b\":\"3\"}}")),
                    msg("web", 6000, line("web", 6000, "{\"name\":\"cpu\",\"value\":6,\"tags\":{\"a\":\"1\",\"b\":\"2\"}}")),
                    msg("web", 7000, line("web", 7000, "{\"name\":\"cpu\",\"value\":\"x\"}"))), ALL, c);
            // the same bytes from another source are another series
            s.appendBatch("db", List.of(msg("db", 1000, line("db", 1000, "{\"name\":\"cpu\",\"value\":9,\"tags\":{\"a\":\"1\",\"b\":\"2\"}}"))),
                    ALL, c);
            s.flush();
            assertThat(c.invalid).containsExactly("data.value missing or not a number");
            assertThat(s.seriesCount()).isEqualTo(3);
            List<SeriesData> d = s.select(List.of(Matcher.of("source", "=", "web"), Matcher.of("b", "=", "2")), 0, 10_000);
            assertThat(d).hasSize(1);
            assertThat(d.get(0).timestamps()).containsExactly(1000, 2000, 3000, 4000, 6000);
            assertThat(d.get(0).values()).containsExactly(1, 2, 3, 4, 6);
            assertThat(s.fallbackParses.sum()).isEqualTo(2); // the escaped name and the string value
        }
    }

    @Test
    void namesFilterAndSeriesLimitOnTheBatchPath() throws Exception {
        try (DuckStore s = open(dir, 15, 2, 0)) {
            Counts c = new Counts();
            Globs names = new Globs(new String[] {"keep_*"});
            List<Message> batch = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                batch.add(msg("w", 1000 + i, line("w", 1000, "{\"name\":\"drop_me\",\"value\":1}")));
                batch.add(msg("w", 1000 + i, line("w", 1000, "{\"name\":\"keep_a\",\"value\":" + i + "}")));
                batch.add(msg("w", 1000 + i, line("w", 1000, "{\"name\":\"keep_b\",\"value\":" + i + "}")));
                batch.add(msg("w", 1000 + i, line("w", 1000, "{\"name\":\"keep_c\",\"value\":" + i + "}")));
            }
            s.appendBatch("w", batch, names, c);
            s.flush();
            assertThat(c.filtered).isEqualTo(3);
            assertThat(c.limited).as("keep_c: a third series, each point counted").isEqualTo(3);
            assertThat(s.seriesCount()).isEqualTo(2);
            assertThat(s.raw("keep_b", 0, 5000, 100)).extracting(DuckStore.RawPoint::value).containsExactly(0.0, 1.0, 2.0);
        }
    }

    @Test
    void batchPathStoresExactlyWhatTheJacksonPathStores() throws Exception {
        Random r = new Random(42);
        List<Message> msgs = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            String src = "s" + r.nextInt(3);
            long ts = 1_000_000 + r.nextInt(3_600_000);
            msgs.add(msg(src, ts, MetricScannerTest.generate(r)));
        }
        try (DuckStore fast = open(dir.resolve("fast"), 100_000, 1_000_000, 0);
                DuckStore ref = open(dir.resolve("ref"), 100_000, 1_000_000, 0)) {
            Counts c = new Counts();
            for (int from = 0; from < msgs.size(); from += 100) {
                List<Message> part = msgs.subList(from, Math.min(msgs.size(), from + 100));
                // a batch has one source: group as routing does
                Map<String, List<Message>> bySource = new TreeMap<>();
                for (Message m : part) {
                    bySource.computeIfAbsent(m.source(), k -> new ArrayList<>()).add(m);
                }
                for (var e : bySource.entrySet()) {
                    fast.appendBatch(e.getKey(), e.getValue(), ALL, c);
                    for (Message m : e.getValue()) {
                        try {
                            ref.append(m.source(), m.timestamp(), MetricLine.parse(m.line()));
                        } catch (MetricLine.Invalid ignored) {
                            // counted on the fast side; compared below
                        }
                    }
                }
            }
            fast.flush();
            ref.flush();
            assertThat(fast.appended.sum()).isEqualTo(ref.appended.sum()).isGreaterThan(5_000);
            assertThat(c.invalid).hasSize(msgs.size() - (int) ref.appended.sum());
            assertThat(snapshot(fast)).isEqualTo(snapshot(ref));
        }
    }

    /** Every stored point as "labels ts value", sorted. */
    static List<String> snapshot(DuckStore s) {
        List<String> out = new ArrayList<>();
        for (SeriesData d : s.select(List.of(Matcher.of("__name__", "=~", ".+")), Long.MIN_VALUE, Long.MAX_VALUE)) {
            for (int i = 0; i < d.size(); i++) {
                out.add(new TreeMap<>(d.labels()) + " " + d.timestamps()[i] + " " + d.values()[i]);
            }
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    static long count(DuckStore s, String table) throws SQLException {
        return s.countRows(table);
    }

    @Test
    void queriesAnswerTheSameBeforeAndAfterCompactionAndRetentionStillWorks() throws Exception {
        long hour = 3_600_000L;
        long day = 24 * hour;
        long now = 40 * day;
        Random r = new Random(3);
        try (DuckStore s = open(dir, 15, 1_000_000, hour)) {
            // 12 series, a point a minute for 20 days, plus some late points out of order
            for (long t = now - 20 * day; t < now; t += 60_000) {
                for (int k = 0; k < 12; k++) {
                    s.append("src" + (k % 4), t + k, DuckStoreTest.m("m" + (k % 2), r.nextInt(1000) / 8.0, "i", "i" + k));
                }
                if (r.nextInt(100) == 0) {
                    s.append("src1", t - 2 * hour, DuckStoreTest.m("m1", 7.5, "i", "i1"));
                }
            }
            s.flush();
            long total = count(s, "points");
            List<String> queries = List.of("avg_over_time(m0[30d])", "sum by (source) (avg_over_time(m1[2h]))",
                    "max_over_time(m0{i=\"i4\"}[3d])", "count_over_time(m1[30d])", "sum_over_time(m0[1h])", "rate(m1[10m])",
                    "last_over_time(m0[1d])", "quantile_over_time(0.5, m1{source=\"src1\"}[1d])", "sum by (source) (m0)");
            List<Long> times = List.of(now - 18 * day, now - 5 * day - 7, now - 30 * 60_000, now);
            List<String> before = answers(s, queries, times);
            List<String> pointsBefore = snapshot(s);
            List<String> rawBefore = raw(s, now - 10 * day, now - 10 * day + 6 * hour);

            s.sortChunkPoints = 100; // a window (12 series x 60 points) sorted in ranges of two series
            long moved = s.compact(now);
            assertThat(moved).isGreaterThan(total * 9 / 10);
            assertThat(count(s, "points_cold")).isEqualTo(moved);
            assertThat(count(s, "points") + count(s, "points_cold")).isEqualTo(total);
            assertThat(s.compact(now)).as("nothing more to move").isZero();
            assertThat(answers(s, queries, times)).isEqualTo(before);
            assertThat(snapshot(s)).isEqualTo(pointsBefore);
            assertThat(raw(s, now - 10 * day, now - 10 * day + 6 * hour)).isEqualTo(rawBefore);
            assertThat(isSortedBySeriesAndTime(s)).isTrue();

            // a late point for a compacted window: visible at once, moved by the next compaction
            s.append("src1", now - 10 * day + 5, DuckStoreTest.m("m1", 1e6, "i", "i1"));
            s.flush();
            Vector mx = (Vector) new Engine(s, 300_000).instant(Parser.parse("max_over_time(m1{i=\"i1\"}[30d])"), now);
            assertThat(mx.samples().get(0).value()).isEqualTo(1e6);
            assertThat(s.compact(now)).isEqualTo(1);

            // retention (15 days) deletes from both tables
            s.enforceRetention(now);
            assertThat(s.raw("m0", 0, now - 15 * day - 1, 10)).isEmpty();
            assertThat(s.raw("m0", now - 15 * day, now - 15 * day + 60_000, 1000)).isNotEmpty();
            long kept = count(s, "points") + count(s, "points_cold");
            assertThat(kept).isLessThan(total).isGreaterThan(total * 7 / 10);
        }
        try (DuckStore s = open(dir, 15, 1_000_000, hour)) {
            Vector mx = (Vector) new Engine(s, 300_000).instant(Parser.parse("max_over_time(m1{i=\"i1\"}[30d])"), now);
            assertThat(mx.samples().get(0).value()).as("after reopening").isEqualTo(1e6);
        }
    }

    private static boolean isSortedBySeriesAndTime(DuckStore s) throws SQLException {
        return s.countUnsortedCold() == 0;
    }

    private static List<String> raw(DuckStore s, long from, long to) {
        List<String> out = new ArrayList<>();
        for (String n : List.of("m0", "m1")) {
            for (DuckStore.RawPoint p : s.raw(n, from, to, 1_000_000)) {
                out.add(p.series().labels() + " " + p.ts() + " " + p.value());
            }
        }
        return out;
    }

    private static List<String> answers(DuckStore s, List<String> queries, List<Long> times) {
        List<String> out = new ArrayList<>();
        Engine e = new Engine(s, 300_000);
        for (String q : queries) {
            for (long t : times) {
                Vector v = (Vector) e.instant(Parser.parse(q), t);
                List<String> samples = new ArrayList<>();
                for (Sample x : v.samples()) {
                    // sums in another order may differ in the last bits: compare to 1e-9 relative
                    samples.add(x.labels() + "=" + String.format(java.util.Locale.ROOT, "%.9g", x.value()));
                }
                samples.sort(Comparator.naturalOrder());
                out.add(q + " @" + t + " " + samples);
            }
        }
        return out;
    }
}
