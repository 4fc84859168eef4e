package io.signalbox.metrics.store.internal;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;
import org.duckdb.DuckDBDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.PromQLException;
import io.signalbox.metrics.promql.Storage;
import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.SeriesData;

/**
 * The DuckDB database under {@code <path>/metrics.duckdb}: table {@code series} (id, name, source,
 * tags as JSON, unit), table {@code points} (series_id, ts epoch ms, value) in arrival order, and
 * {@code points_cold} (the same, ordered by series and time; only filled by the opt-in {@link #compact});
 * queries read the view {@code points_all}. Points go in by batch ({@link #appendBatch}: scanner, series
 * cache, column buffers) and through DuckDB's Appender on one writer connection (guarded by this object)
 * that stays in one transaction until {@link #flush} commits it to DuckDB's write-ahead log, which
 * DuckDB replays when the file is opened after a crash. Queries run on their own connections
 * ({@link DuckDBConnection#duplicate}) beside the writer.
 *
 * <p>The label index (every series and its labels) is kept in memory: selectors are matched there
 * and only the matching series ids go into the SQL that scans points.
 */
final class DuckStore implements Storage, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DuckStore.class);
    private static final JsonFactory JSON = new JsonFactory();
    static final String FILE = "metrics.duckdb";

    /** The engine settings (from {@link StoreConfig}). */
    record Settings(Path dir, int retentionDays, long maxBytes, int memoryLimitMb, int threads, long maxSamples, int maxSeries,
            long compactWindowMs) {
        /** Without a series limit (tests, benchmarks); compaction by the hour. */
        Settings(Path dir, int retentionDays, long maxBytes, int memoryLimitMb, int threads, long maxSamples) {
            this(dir, retentionDays, maxBytes, memoryLimitMb, threads, maxSamples, Integer.MAX_VALUE, DEFAULT_COMPACT_WINDOW_MS);
        }

        Settings(Path dir, int retentionDays, long maxBytes, int memoryLimitMb, int threads, long maxSamples, int maxSeries) {
            this(dir, retentionDays, maxBytes, memoryLimitMb, threads, maxSamples, maxSeries, DEFAULT_COMPACT_WINDOW_MS);
        }
    }

    /**
     * Off: measured on DuckDB 2.0.0.1 (load/README.md), the compacted table takes more bytes a point than
     * the arrival-ordered one (5.4 with day windows, 6.9 with hour windows, against 4.4).
     */
    static final long DEFAULT_COMPACT_WINDOW_MS = 0;
    /** Points buffered before they are sorted and handed to the Appender (also drained at every flush). */
    static final int BUFFER_POINTS = 1 << 17;

    /** What became of the metric messages of a batch that were not stored (see {@link #appendBatch}). */
    interface Outcome {
        void invalid(Message m, String reason);

        void filtered();

        void seriesLimited(String name, String source);
    }

    private final Settings settings;
    private final DuckDBConnection writer;
    private final DuckDBAppender appender;
    /** The appender is confined to its creating thread unless released; routing calls write() from its channel pool. */
    private final java.util.concurrent.locks.Lock appenderLock;
    private final PreparedStatement insertSeries;
    private final Map<String, Series> byKey = new ConcurrentHashMap<>();
    private final SeriesCache cache;
    private final MetricScanner scanner = new MetricScanner();
    /** Points appended since the last drain, by column (guarded by this). */
    private int[] bufSeries = new int[1024];
    private long[] bufTs = new long[1024];
    private double[] bufValue = new double[1024];
    private int buffered;
    final LongAdder fallbackParses = new LongAdder();
    final LongAdder compacted = new LongAdder();
    private volatile Map<Integer, Series> byId = Map.of();
    private int nextId;
    private long unflushed;
    private boolean closed;
    final LongAdder appended = new LongAdder();
    final LongAdder flushes = new LongAdder();
    final LongAdder retentionDeleted = new LongAdder();
    private volatile long usedBytes;
    private volatile long fileBytes;

    DuckStore(Settings settings) throws SQLException, IOException {
        this.settings = settings;
        this.cache = new SeriesCache((int) Math.min(1 << 20, Math.max(1024L, 2L * settings.maxSeries())));
        Files.createDirectories(settings.dir());
        Properties p = new Properties();
        p.setProperty("memory_limit", settings.memoryLimitMb() + "MB");
        p.setProperty("threads", String.valueOf(settings.threads()));
        p.setProperty("temp_directory", settings.dir().resolve("tmp").toString());
        // the driver is used directly: java.sql.DriverManager does not see drivers inside bundles
        writer = (DuckDBConnection) new DuckDBDriver().connect("jdbc:duckdb:" + settings.dir().resolve(FILE), p);
        try (Statement st = writer.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                    + "source VARCHAR NOT NULL, tags VARCHAR NOT NULL, unit VARCHAR)");
            // points: the recent points as they arrived (sorted per flush); points_cold: older windows
            // rewritten ordered by (series_id, ts) by compact(), which DuckDB's column compression
            // (RLE for the id, delta bit-packing for ts, ALP for values) turns into ~1-2 bytes a point
            st.execute("CREATE TABLE IF NOT EXISTS points (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)");
            st.execute("CREATE TABLE IF NOT EXISTS points_cold (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)");
            st.execute("CREATE OR REPLACE VIEW points_all AS SELECT series_id, ts, value FROM points_cold "
                    + "UNION ALL SELECT series_id, ts, value FROM points");
        }
        loadSeries();
        insertSeries = writer.prepareStatement("INSERT INTO series VALUES (?, ?, ?, ?, ?)");
        appender = writer.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "points");
        appenderLock = appender.unsafeBreakThreadConfinement();
        refreshSize();
        // one transaction per flush interval: the Appender hands DuckDB a chunk every 2,048 rows, which in
        // auto-commit mode is a commit (a WAL write) per chunk; in a transaction it is only local storage
        writer.setAutoCommit(false);
    }

    private void loadSeries() throws SQLException {
        Map<Integer, Series> ids = new HashMap<>();
        int max = 0;
        try (Statement st = writer.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, name, source, tags, unit FROM series")) {
            while (rs.next()) {
                Series s = Series.of(rs.getInt(1), rs.getString(2), rs.getString(3), tagsOf(rs.getString(4)), rs.getString(5));
                ids.put(s.id(), s);
                byKey.put(Series.key(s.name(), s.source(), s.tags()), s);
                max = Math.max(max, s.id());
            }
        }
        byId = Map.copyOf(ids);
        nextId = max + 1;
    }

    /**
     * Appends one point (not yet committed: see {@link #flush}); {@code false} when it is the first
     * point of a new series and the store already holds {@code maxSeries} series (not stored).
     */
    synchronized boolean append(String source, long ts, MetricLine m) throws SQLException {
        if (closed) {
            throw new SQLException("metrics store is closed");
        }
        Series s = intern(m.name(), source, m.tags(), m.unit());
        if (s == null) {
            return false;
        }
        buffer(s.id(), ts, m.value());
        appended.increment();
        return true;
    }

    /**
     * Appends the {@code metric} messages of one batch (others are ignored) under one lock: each line
     * is read by {@link MetricScanner} (Jackson's {@link MetricLine#parse} only for what the scanner
     * does not handle) and its series found in {@link SeriesCache} by the line's bytes.
     */
    synchronized void appendBatch(String source, List<Message> messages, Globs names, Outcome outcome) throws SQLException {
        if (closed) {
            throw new SQLException("metrics store is closed");
        }
        MetricScanner sc = scanner;
        long n = 0;
        for (Message m : messages) {
            if (m.type() != MessageType.METRIC) {
                continue;
            }
            byte[] line = m.line();
            Series s;
            double value;
            if (sc.scan(line)) {
                value = sc.value;
                int h = SeriesCache.hash(source, line, sc.nameOff, sc.nameLen, sc.tagsOff, sc.tagsLen);
                s = cache.get(h, source, line, sc.nameOff, sc.nameLen, sc.tagsOff, sc.tagsLen);
                if (s == null) {
                    String name = sc.name();
                    if (!names.matches(name)) {
                        s = SeriesCache.FILTERED;
                    } else {
                        s = intern(name, source, sc.tags(), sc.unit());
                        if (s == null) {
                            outcome.seriesLimited(name, source); // not cached: counted at every point
                            continue;
                        }
                    }
                    cache.put(h, source, line, sc.nameOff, sc.nameLen, sc.tagsOff, sc.tagsLen, s);
                }
            } else {
                fallbackParses.increment();
                MetricLine ml;
                try {
                    ml = MetricLine.parse(line);
                } catch (MetricLine.Invalid e) {
                    outcome.invalid(m, e.getMessage());
                    continue;
                }
                if (!names.matches(ml.name())) {
                    s = SeriesCache.FILTERED;
                } else {
                    s = intern(ml.name(), source, ml.tags(), ml.unit());
                    if (s == null) {
                        outcome.seriesLimited(ml.name(), source);
                        continue;
                    }
                }
                value = ml.value();
            }
            if (s == SeriesCache.FILTERED) {
                outcome.filtered();
                continue;
            }
            buffer(s.id(), m.timestamp(), value);
            n++;
        }
        appended.add(n);
    }

    /** The series of (name, source, tags), created if new; {@code null} at the series limit. */
    private Series intern(String name, String source, SortedMap<String, String> tags, String unit) throws SQLException {
        String key = Series.key(name, source, tags);
        Series s = byKey.get(key);
        if (s == null) {
            if (byKey.size() >= settings.maxSeries()) {
                return null;
            }
            s = Series.of(nextId, name, source, tags, unit);
            insertSeries.setInt(1, s.id());
            insertSeries.setString(2, s.name());
            insertSeries.setString(3, s.source());
            insertSeries.setString(4, json(s.tags()));
            insertSeries.setString(5, s.unit());
            insertSeries.executeUpdate(); // committed before any of its points
            nextId++;
            byKey.put(key, s);
            Map<Integer, Series> ids = new HashMap<>(byId);
            ids.put(s.id(), s);
            byId = Map.copyOf(ids);
        }
        return s;
    }

    private void buffer(int series, long ts, double value) throws SQLException {
        if (buffered == bufSeries.length) {
            if (buffered >= BUFFER_POINTS) {
                drain();
            } else {
                int cap = buffered * 2;
                bufSeries = java.util.Arrays.copyOf(bufSeries, cap);
                bufTs = java.util.Arrays.copyOf(bufTs, cap);
                bufValue = java.util.Arrays.copyOf(bufValue, cap);
            }
        }
        bufSeries[buffered] = series;
        bufTs[buffered] = ts;
        bufValue[buffered] = value;
        buffered++;
        unflushed++;
    }

    /**
     * Hands the buffered points to the Appender in arrival order. (Ordering them by (series, ts) per
     * drain was measured: it made DuckDB's compression worse, 6.7 instead of 4.4 bytes a point, because
     * runs of a series shorter than the 2,048-value bit-packing groups cost a wide delta per group.)
     */
    private void drain() throws SQLException {
        int n = buffered;
        if (n == 0) {
            return;
        }
        appenderLock.lock();
        try {
            for (int i = 0; i < n; i++) {
                appender.beginRow().append(bufSeries[i]).append(bufTs[i]).append(bufValue[i]).endRow();
            }
        } finally {
            appenderLock.unlock();
        }
        buffered = 0;
    }

    /** Commits every appended point. */
    synchronized void flush() throws SQLException {
        if (closed || unflushed == 0) {
            return;
        }
        try {
            drain();
            appenderLock.lock();
            try {
                appender.flush();
            } finally {
                appenderLock.unlock();
            }
            writer.commit();
        } catch (SQLException | RuntimeException e) {
            // the transaction is gone (its new series with it): start clean from what is committed
            unflushed = 0;
            buffered = 0;
            try {
                writer.rollback();
                loadSeriesIndexOnly();
                writer.commit();
            } catch (SQLException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        unflushed = 0;
        flushes.increment();
    }

    /**
     * Deletes points older than the retention, then the oldest points while the used size is above
     * the cap, drops series without points and checkpoints (folds the WAL into the file).
     */
    void enforceRetention(long nowMs) throws SQLException {
        long cutoff = nowMs - settings.retentionDays() * 86_400_000L;
        synchronized (this) {
            if (closed) {
                return;
            }
            flush();
            writer.setAutoCommit(true); // maintenance statement by statement; CHECKPOINT needs it
            try {
                maintain(nowMs, cutoff);
            } finally {
                writer.setAutoCommit(false);
            }
        }
    }

    private void maintain(long nowMs, long cutoff) throws SQLException {
        {
            compact(nowMs);
            try (PreparedStatement st = writer.prepareStatement("DELETE FROM points WHERE ts < ?");
                    PreparedStatement cold = writer.prepareStatement("DELETE FROM points_cold WHERE ts < ?")) {
                st.setLong(1, cutoff);
                cold.setLong(1, cutoff);
                long n = st.executeUpdate() + cold.executeUpdate();
                retentionDeleted.add(n);
                if (n > 0) {
                    LOG.info("metrics store: retention ({} days) deleted {} points", settings.retentionDays(), n);
                }
            }
            refreshSize();
            for (int round = 0; round < 10 && settings.maxBytes() > 0 && usedBytes > settings.maxBytes(); round++) {
                // the fraction of the oldest points to drop so that what stays fits in 90 % of the cap
                double keep = Math.max(0.0, Math.min(0.95, 0.9 * settings.maxBytes() / (double) usedBytes));
                long cut;
                try (PreparedStatement st = writer.prepareStatement("SELECT quantile_disc(ts, ?) FROM points_all")) {
                    st.setDouble(1, 1 - keep);
                    try (ResultSet rs = st.executeQuery()) {
                        rs.next();
                        cut = rs.getLong(1);
                        if (rs.wasNull()) {
                            break;
                        }
                    }
                }
                try (PreparedStatement st = writer.prepareStatement("DELETE FROM points WHERE ts <= ?");
                        PreparedStatement cold = writer.prepareStatement("DELETE FROM points_cold WHERE ts <= ?")) {
                    st.setLong(1, cut);
                    cold.setLong(1, cut);
                    long n = st.executeUpdate() + cold.executeUpdate();
                    retentionDeleted.add(n);
                    LOG.warn("metrics store: {} bytes used, cap {}: deleted the {} oldest points (up to ts {})",
                            usedBytes, settings.maxBytes(), n, cut);
                }
                checkpoint();
                refreshSize();
            }
            try (Statement st = writer.createStatement()) {
                int gone = st.executeUpdate("DELETE FROM series WHERE id NOT IN (SELECT DISTINCT series_id FROM points_all)");
                if (gone > 0) {
                    loadSeriesIndexOnly();
                }
            }
            checkpoint();
            refreshSize();
        }
    }

    /**
     * Moves the points of every whole {@code compactWindowMs} window that ended at least one window ago
     * from {@code points} (arrival order) to {@code points_cold}, ordered by (series_id, ts), one window
     * per transaction (so the sort is bounded by one window's points). A point that arrives later for an
     * already compacted window stays in {@code points} until the next run moves it (queries read both).
     * Returns the number of points moved. Under the write lock, after a flush.
     */
    long compact(long nowMs) throws SQLException {
        long w = settings.compactWindowMs();
        if (w <= 0) {
            return 0;
        }
        long horizon = Math.floorDiv(nowMs - w, w) * w;
        long moved = 0;
        synchronized (this) {
            if (closed) {
                return 0;
            }
            flush();
            while (true) {
                long oldest;
                try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery("SELECT min(ts) FROM points")) {
                    rs.next();
                    oldest = rs.getLong(1);
                    if (rs.wasNull()) {
                        break;
                    }
                }
                if (oldest >= horizon) {
                    break;
                }
                long to = Math.min(horizon, Math.floorDiv(oldest, w) * w + w);
                boolean auto = writer.getAutoCommit();
                writer.setAutoCommit(false);
                try (PreparedStatement ins = writer.prepareStatement("INSERT INTO points_cold SELECT series_id, ts, value "
                        + "FROM points WHERE ts < ? AND series_id >= ? AND series_id < ? ORDER BY series_id, ts");
                        PreparedStatement del = writer.prepareStatement("DELETE FROM points WHERE ts < ?")) {
                    // in ranges of series ids of at most sortChunkPoints points each, so that no single sort
                    // holds a whole (possibly large) window; the ranges ascend, so the window stays ordered
                    long n = 0;
                    for (int[] range : seriesRanges(to)) {
                        ins.setLong(1, to);
                        ins.setInt(2, range[0]);
                        ins.setInt(3, range[1]);
                        n += ins.executeUpdate();
                    }
                    del.setLong(1, to);
                    long d = del.executeUpdate();
                    if (n != d) {
                        throw new SQLException("compaction moved " + n + " points but deleted " + d);
                    }
                    writer.commit();
                    moved += n;
                } catch (SQLException | RuntimeException e) {
                    writer.rollback();
                    throw e;
                } finally {
                    writer.setAutoCommit(auto);
                }
            }
        }
        if (moved > 0) {
            compacted.add(moved);
            LOG.debug("metrics store: compacted {} points older than {} into points_cold", moved, horizon);
        }
        return moved;
    }

    /** Rows of {@code points} or {@code points_cold} (tests, benchmarks). */
    long countRows(String table) throws SQLException {
        if (!table.equals("points") && !table.equals("points_cold")) {
            throw new IllegalArgumentException(table);
        }
        synchronized (this) {
            try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** One line of {@link #storageReport}. */
    interface StorageLine {
        void line(String table, String column, String compression, long segments, long values);
    }

    /** Which compression DuckDB chose for each column of both point tables (benchmarks, diagnosis). */
    void storageReport(StorageLine out) throws SQLException {
        synchronized (this) {
            for (String table : List.of("points", "points_cold")) {
                try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT column_name, compression, count(*), sum(count) FROM pragma_storage_info('" + table
                                + "') WHERE segment_type <> 'VALIDITY' GROUP BY ALL ORDER BY ALL")) {
                    while (rs.next()) {
                        out.line(table, rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4));
                    }
                }
                // blocks holding the table's persistent segments (shared partial blocks counted once per table)
                try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT count(DISTINCT block_id), (SELECT block_size FROM pragma_database_size()) FROM pragma_storage_info('"
                                + table + "') WHERE persistent AND block_id >= 0")) {
                    if (rs.next()) {
                        out.line(table, "*", "blocks", rs.getLong(1), rs.getLong(1) * rs.getLong(2));
                    }
                }
            }
        }
    }

    /**
     * Rows of {@code points_cold} that, in storage order, come before a row of the same compaction window
     * they should follow in (series_id, ts) order (tests: 0 after a compaction without late points).
     */
    long countUnsortedCold() throws SQLException {
        long w = Math.max(1, settings.compactWindowMs());
        synchronized (this) {
            try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM (SELECT series_id, ts, lag(series_id) OVER (ORDER BY rowid) ps, "
                            + "lag(ts) OVER (ORDER BY rowid) pt FROM points_cold) WHERE ps IS NOT NULL "
                            + "AND floor(ts / " + w + ") = floor(pt / " + w + ") AND (series_id < ps OR (series_id = ps AND ts < pt))")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Most points one compaction INSERT sorts (DuckDB spills beyond memory.limit.mb; this keeps it rare). */
    long sortChunkPoints = 4_000_000;

    /** Ascending [from, to) series id ranges covering every point of {@code points} with ts &lt; {@code before}. */
    private List<int[]> seriesRanges(long before) throws SQLException {
        List<int[]> out = new ArrayList<>();
        try (PreparedStatement st = writer.prepareStatement(
                "SELECT series_id, count(*) FROM points WHERE ts < ? GROUP BY series_id ORDER BY series_id")) {
            st.setLong(1, before);
            try (ResultSet rs = st.executeQuery()) {
                int from = Integer.MIN_VALUE;
                long inRange = 0;
                while (rs.next()) {
                    int id = rs.getInt(1);
                    long c = rs.getLong(2);
                    if (inRange > 0 && inRange + c > sortChunkPoints) {
                        out.add(new int[] {from, id});
                        from = id;
                        inRange = 0;
                    }
                    inRange += c;
                }
                out.add(new int[] {from, Integer.MAX_VALUE});
            }
        }
        return out;
    }

    /** Re-reads the series table after retention dropped some (under the write lock). */
    private void loadSeriesIndexOnly() throws SQLException {
        cache.clear();
        byKey.clear();
        int keepNext = nextId;
        loadSeries();
        nextId = Math.max(keepNext, nextId);
    }

    private void checkpoint() throws SQLException {
        try (Statement st = writer.createStatement()) {
            st.execute("CHECKPOINT");
        }
    }

    private void refreshSize() throws SQLException {
        try (Statement st = writer.createStatement();
                ResultSet rs = st.executeQuery("SELECT used_blocks * block_size FROM pragma_database_size()")) {
            if (rs.next()) {
                usedBytes = rs.getLong(1);
            }
        }
        Path f = settings.dir().resolve(FILE);
        Path wal = settings.dir().resolve(FILE + ".wal");
        try {
            fileBytes = Files.size(f) + (Files.exists(wal) ? Files.size(wal) : 0);
        } catch (IOException e) {
            LOG.debug("metrics store: size of {} unknown", f, e);
        }
    }

    long usedBytes() {
        return usedBytes;
    }

    long fileBytes() {
        return fileBytes;
    }

    int seriesCount() {
        return byId.size();
    }

    /** Every series, for label listings. */
    List<Series> allSeries() {
        return new ArrayList<>(byId.values());
    }

    List<Series> matching(List<Matcher> matchers) {
        List<Series> out = new ArrayList<>();
        for (Series s : byId.values()) {
            boolean ok = true;
            for (Matcher m : matchers) {
                if (!m.matches(s.labels())) {
                    ok = false;
                    break;
                }
            }
            if (ok) {
                out.add(s);
            }
        }
        return out;
    }

    /** The ids among {@code series} that have points in [from, to]. */
    List<Series> withPoints(List<Series> series, long from, long to) {
        if (series.isEmpty()) {
            return List.of();
        }
        List<Series> out = new ArrayList<>();
        query("SELECT DISTINCT series_id FROM points_all WHERE ts >= ? AND ts <= ?" + inIds(series),
                st -> {
                    st.setLong(1, from);
                    st.setLong(2, to);
                }, rs -> {
                    Series s = byId.get(rs.getInt(1));
                    if (s != null) {
                        out.add(s);
                    }
                });
        return out;
    }

    /** A raw point of {@link #raw}. */
    record RawPoint(Series series, long ts, double value) {
    }

    /** The points of every series named {@code name} with from ≤ ts ≤ to, in time order. */
    List<RawPoint> raw(String name, long from, long to, long limit) {
        List<Series> series = matching(List.of(Matcher.of("__name__", "=", name)));
        if (series.isEmpty()) {
            return List.of();
        }
        List<RawPoint> out = new ArrayList<>();
        query("SELECT series_id, ts, value FROM points_all WHERE ts >= ? AND ts <= ?" + inIds(series)
                + " ORDER BY ts, series_id LIMIT ?", st -> {
                    st.setLong(1, from);
                    st.setLong(2, to);
                    st.setLong(3, limit + 1);
                }, rs -> out.add(new RawPoint(byId.get(rs.getInt(1)), rs.getLong(2), rs.getDouble(3))));
        if (out.size() > limit) {
            throw new PromQLException("execution", "more than " + limit + " points in the range; narrow it");
        }
        return out;
    }

    @Override
    public List<SeriesData> select(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        List<Series> series = matching(matchers);
        if (series.isEmpty()) {
            return List.of();
        }
        List<SeriesData> out = new ArrayList<>();
        long[] count = {0};
        int[] current = {-1};
        long[][] ts = {new long[16]};
        double[][] vs = {new double[16]};
        int[] n = {0};
        Runnable emit = () -> {
            if (current[0] >= 0 && n[0] > 0) {
                out.add(new SeriesData(byId.get(current[0]).labels(), java.util.Arrays.copyOf(ts[0], n[0]),
                        java.util.Arrays.copyOf(vs[0], n[0])));
            }
        };
        java.util.BitSet wanted = idSet(series);
        query("SELECT series_id, ts, value FROM points_all WHERE ts > ? AND ts <= ?" + inIdsOrAll(series)
                + " ORDER BY series_id, ts", st -> {
                    st.setLong(1, fromExclusive);
                    st.setLong(2, toInclusive);
                }, rs -> {
                    int id = rs.getInt(1);
                    if (!wanted.get(id)) {
                        return; // a series that appeared after the match
                    }
                    if (id != current[0]) {
                        emit.run();
                        current[0] = id;
                        n[0] = 0;
                    }
                    long t = rs.getLong(2);
                    double v = rs.getDouble(3);
                    if (n[0] > 0 && ts[0][n[0] - 1] == t) {
                        vs[0][n[0] - 1] = v; // the same sample delivered twice (a retried batch): keep one
                        return;
                    }
                    if (++count[0] > settings.maxSamples()) {
                        throw new PromQLException("execution",
                                "query processing would load too many samples into memory (query.max.samples="
                                        + settings.maxSamples() + ")");
                    }
                    if (n[0] == ts[0].length) {
                        ts[0] = java.util.Arrays.copyOf(ts[0], n[0] * 2);
                        vs[0] = java.util.Arrays.copyOf(vs[0], n[0] * 2);
                    }
                    ts[0][n[0]] = t;
                    vs[0][n[0]] = v;
                    n[0]++;
                });
        emit.run();
        return out;
    }

    @Override
    public List<Sample> latest(List<Matcher> matchers, long fromExclusive, long toInclusive) {
        return perSeries("arg_max(value, ts)", null, matchers, fromExclusive, toInclusive);
    }

    @Override
    public List<Sample> overTime(String fn, double param, List<Matcher> matchers, long fromExclusive, long toInclusive) {
        String agg = switch (fn) {
            case "avg" -> "avg(value)";
            case "min" -> "min(value)";
            case "max" -> "max(value)";
            case "sum" -> "sum(value)";
            case "count" -> "count(*)";
            case "last" -> "arg_max(value, ts)";
            case "quantile" -> (param < 0 || param > 1 || Double.isNaN(param)) ? null : "quantile_cont(value, ?)";
            default -> null;
        };
        return agg == null ? null : perSeries(agg, fn.equals("quantile") ? param : null, matchers, fromExclusive, toInclusive);
    }

    /** One aggregate per matching series in (from, to], computed by DuckDB. */
    private List<Sample> perSeries(String agg, Double param, List<Matcher> matchers, long from, long to) {
        List<Series> series = matching(matchers);
        if (series.isEmpty()) {
            return List.of();
        }
        List<Sample> out = new ArrayList<>();
        java.util.BitSet wanted = idSet(series);
        query("SELECT series_id, " + agg + " FROM points_all WHERE ts > ? AND ts <= ?" + inIdsOrAll(series)
                + " GROUP BY series_id", st -> {
                    int k = 1;
                    if (param != null) {
                        st.setDouble(k++, param);
                    }
                    st.setLong(k++, from);
                    st.setLong(k, to);
                }, rs -> {
                    int id = rs.getInt(1);
                    Series s = wanted.get(id) ? byId.get(id) : null;
                    if (s != null) {
                        out.add(new Sample(s.labels(), rs.getDouble(2)));
                    }
                });
        return out;
    }

    /** The series filter of a scan: none when {@code series} is every series (then the id list is pure cost). */
    private String inIds(List<Series> series) {
        return " AND series_id IN (" + ids(series) + ")";
    }

    /**
     * For scans whose rows are filtered again by {@link #idSet}: no id list in the SQL when the matched
     * series are every series known (a long IN list costs DuckDB more than the rows it would spare).
     */
    private String inIdsOrAll(List<Series> series) {
        return series.size() == byId.size() && series.size() > 64 ? "" : inIds(series);
    }

    private static java.util.BitSet idSet(List<Series> series) {
        java.util.BitSet b = new java.util.BitSet();
        for (Series s : series) {
            b.set(s.id());
        }
        return b;
    }

    private static String ids(List<Series> series) {
        StringBuilder sb = new StringBuilder(series.size() * 6);
        for (Series s : series) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(s.id());
        }
        return sb.toString();
    }

    private interface Binder {
        void bind(PreparedStatement st) throws SQLException;
    }

    private interface RowHandler {
        void row(ResultSet rs) throws SQLException;
    }

    private void query(String sql, Binder binder, RowHandler handler) {
        try (Connection c = reader(); PreparedStatement st = c.prepareStatement(sql)) {
            binder.bind(st);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    handler.row(rs);
                }
            }
        } catch (SQLException e) {
            throw new PromQLException("execution", "store query failed: " + e.getMessage());
        }
    }

    private Connection reader() throws SQLException {
        synchronized (this) {
            if (closed) {
                throw new SQLException("metrics store is closed");
            }
            return writer.duplicate();
        }
    }

    /** Commits what is appended and closes the database (a checkpoint folds the WAL in). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            drain();
            appenderLock.lock();
            try {
                appender.close(); // flushes
            } finally {
                appenderLock.unlock();
            }
            writer.commit();
            writer.setAutoCommit(true);
            checkpoint();
        } catch (SQLException e) {
            LOG.warn("metrics store: final flush/checkpoint failed; DuckDB replays its WAL at the next start", e);
        }
        closed = true;
        try {
            insertSeries.close();
            writer.close();
        } catch (SQLException e) {
            LOG.warn("metrics store: close failed", e);
        }
    }

    static String json(SortedMap<String, String> tags) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            for (Map.Entry<String, String> e : tags.entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    static SortedMap<String, String> tagsOf(String json) {
        SortedMap<String, String> out = new TreeMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String k = p.currentName();
                    p.nextToken();
                    out.put(k, p.getText());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("series tags are not JSON: " + json, e);
        }
        return out;
    }
}
