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
 * cache, column chunks, under this object's monitor); full chunks go to DuckDB's Appender on the store's
 * thread ({@link #handOffTo}) or, without one, on the writing thread, on one writer connection (guarded by
 * {@code dbLock}) that stays in one transaction until {@link #flush} commits it to DuckDB's write-ahead
 * log, which DuckDB replays when the file is opened after a crash. Queries run on their own connections
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
    /** Points buffered in one column chunk before it is handed to the Appender (also at every flush). */
    static final int BUFFER_POINTS = 1 << 16;
    /**
     * Full chunks that may wait for the Appender (on the store's thread, {@link #handOffTo}) before a
     * writer waits: with {@link #BUFFER_POINTS} points of 20 bytes each, at most ≈ 4 MiB of points.
     */
    static final int MAX_PENDING_CHUNKS = 3;

    /** What became of the metric messages of a batch that were not stored (see {@link #appendBatch}). */
    interface Outcome {
        void invalid(Message m, String reason);

        void filtered();

        void seriesLimited(String name, String source);
    }

    /** Most series one INSERT statement carries (a power of two). */
    static final int SERIES_ROWS = 128;

    private final Settings settings;
    private final DuckDBConnection writer;
    private final DuckDBAppender appender;
    /** The appender is confined to its creating thread unless released; routing calls write() from its channel pool. */
    private final java.util.concurrent.locks.Lock appenderLock;
    /**
     * Guards the writer connection, the Appender and {@link #insertSeries} (everything that talks to
     * DuckDB's write side). The monitor of this object guards the in-memory side (scanner, series cache and
     * index, the current chunk), so a commit or checkpoint does not stall the writers of batches. Order:
     * {@code dbLock} before the monitor, never the other way round.
     */
    private final java.util.concurrent.locks.ReentrantLock dbLock = new java.util.concurrent.locks.ReentrantLock();
    /** The connection queries are duplicated from (not the writer's: they need not wait for its lock). */
    private final DuckDBConnection readBase;
    /**
     * {@code INSERT INTO series} of 2^i rows at once (index i, up to {@value #SERIES_ROWS} rows), prepared
     * on first use: one statement a series cost ~160 us of CPU (10,000 new sources: 1.6 s of the store's
     * thread). Powers of two keep at most eight statements open and any count at most eight statements.
     */
    private final PreparedStatement[] insertSeries = new PreparedStatement[Integer.numberOfTrailingZeros(SERIES_ROWS) + 1];
    private final Map<String, Series> byKey = new ConcurrentHashMap<>();
    private final SeriesCache cache;
    private final MetricScanner scanner = new MetricScanner();
    /** Points buffered since the last hand-off, by column (guarded by this). */
    private Chunk current = new Chunk(1024);
    /** Series created since the last hand-off (guarded by this); inserted before the chunk's points. */
    private List<Series> newSeries = new ArrayList<>();
    /** Chunks handed off, in order, not yet given to the Appender (guarded by this). */
    private final java.util.ArrayDeque<Chunk> pending = new java.util.ArrayDeque<>();
    /** Emptied chunks for reuse (guarded by this). */
    private final java.util.ArrayDeque<Chunk> spare = new java.util.ArrayDeque<>();
    /** Where full chunks are appended; {@code null}: on the thread that filled them. */
    private volatile java.util.concurrent.Executor handOff;
    final LongAdder fallbackParses = new LongAdder();
    final LongAdder compacted = new LongAdder();
    /**
     * Series by id, for queries (read without the monitor). Written under the monitor: a new series is
     * put in place (copying the whole map per new series made creating n series cost O(n²): 12,000
     * series from 10,000 sources were ~10 % of a channel worker's time), a reload swaps in a new map.
     */
    private volatile Map<Integer, Series> byId = new ConcurrentHashMap<>();
    private int nextId;
    /** Rows given to the Appender since the last commit (guarded by dbLock). */
    private long unflushed;
    private volatile boolean closed;
    final LongAdder appended = new LongAdder();
    final LongAdder flushes = new LongAdder();
    final LongAdder retentionDeleted = new LongAdder();
    /** Guards {@link #activeQueries} and the {@code SET threads} that follow its changes. */
    private final Object threadsLock = new Object();
    /** Queries running now (guarded by threadsLock). */
    private int activeQueries;
    private volatile long usedBytes;
    private volatile long fileBytes;

    DuckStore(Settings settings) throws SQLException, IOException {
        this.settings = settings;
        this.cache = new SeriesCache((int) Math.min(1 << 20, Math.max(1024L, 2L * settings.maxSeries())));
        Files.createDirectories(settings.dir());
        Properties p = new Properties();
        p.setProperty("memory_limit", settings.memoryLimitMb() + "MB");
        // one thread while only ingest runs: appending with a second DuckDB worker costs ~45 % more CPU a
        // point (DuckDbAppenderBenchmark: 0.67 against 0.45 us); queries raise it, see withQueryThreads
        p.setProperty("threads", "1");
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
        appender = writer.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "points");
        appenderLock = appender.unsafeBreakThreadConfinement();
        readBase = (DuckDBConnection) writer.duplicate();
        refreshSize();
        // one transaction per flush interval: the Appender hands DuckDB a chunk every 2,048 rows, which in
        // auto-commit mode is a commit (a WAL write) per chunk; in a transaction it is only local storage
        writer.setAutoCommit(false);
    }

    private void loadSeries() throws SQLException {
        Map<Integer, Series> ids = new ConcurrentHashMap<>();
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
        byId = ids;
        nextId = max + 1;
    }

    /**
     * Appends one point (not yet committed: see {@link #flush}); {@code false} when it is the first
     * point of a new series and the store already holds {@code maxSeries} series (not stored).
     */
    boolean append(String source, long ts, MetricLine m) throws SQLException {
        boolean handedOff;
        synchronized (this) {
            if (closed) {
                throw new SQLException("metrics store is closed");
            }
            Series s = intern(m.name(), source, m.tags(), m.unit());
            if (s == null) {
                return false;
            }
            handedOff = buffer(s.id(), ts, m.value());
            appended.increment();
        }
        if (handedOff) {
            appendPending();
        }
        return true;
    }

    /**
     * Appends the {@code metric} messages of one batch (others are ignored) under one lock: each line
     * is read by {@link MetricScanner} (Jackson's {@link MetricLine#parse} only for what the scanner
     * does not handle) and its series found in {@link SeriesCache} by the line's bytes.
     */
    void appendBatch(String source, List<Message> messages, Globs names, Outcome outcome) throws SQLException {
        boolean handedOff;
        synchronized (this) {
            handedOff = scanBatch(source, messages, names, outcome);
        }
        if (handedOff) {
            appendPending();
        }
    }

    /** The part of {@link #appendBatch} under the monitor; {@code true} if a full chunk was handed off. */
    private boolean scanBatch(String source, List<Message> messages, Globs names, Outcome outcome) throws SQLException {
        if (closed) {
            throw new SQLException("metrics store is closed");
        }
        boolean handedOff = false;
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
            handedOff |= buffer(s.id(), m.timestamp(), value);
            n++;
        }
        appended.add(n);
        return handedOff;
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
            newSeries.add(s); // inserted with (before) the chunk that holds its first point
            nextId++;
            byKey.put(key, s);
            byId.put(s.id(), s);
        }
        return s;
    }

    /** Column buffers of points (series id, ts, value) in arrival order. */
    private static final class Chunk {
        int[] series;
        long[] ts;
        double[] value;
        int n;
        /** The series first seen since the previous chunk: inserted before these points. */
        List<Series> created = List.of();

        Chunk(int capacity) {
            series = new int[capacity];
            ts = new long[capacity];
            value = new double[capacity];
        }

        void grow() {
            int cap = series.length * 2;
            series = java.util.Arrays.copyOf(series, cap);
            ts = java.util.Arrays.copyOf(ts, cap);
            value = java.util.Arrays.copyOf(value, cap);
        }
    }

    /** Buffers one point (under the monitor); {@code true} when this filled the chunk and handed it off. */
    private boolean buffer(int series, long ts, double value) {
        Chunk c = current;
        boolean handedOff = false;
        if (c.n == c.series.length) {
            if (c.n >= BUFFER_POINTS) {
                handOffCurrent();
                c = current;
                handedOff = true;
            } else {
                c.grow();
            }
        }
        c.series[c.n] = series;
        c.ts[c.n] = ts;
        c.value[c.n] = value;
        c.n++;
        return handedOff;
    }

    /** Queues the current chunk (and the series created for it) for the Appender; under the monitor. */
    private void handOffCurrent() {
        Chunk c = current;
        if (c.n == 0 && newSeries.isEmpty()) {
            return;
        }
        c.created = newSeries;
        newSeries = new ArrayList<>();
        pending.addLast(c);
        Chunk next = spare.pollFirst();
        current = next != null ? next : new Chunk(c.series.length);
    }

    /**
     * After a hand-off, outside the monitor: appends the pending chunks here (no store thread) or asks
     * the store's thread to, and waits while more than {@link #MAX_PENDING_CHUNKS} are queued (so a
     * store that cannot keep up slows its writers instead of growing without bound).
     */
    private void appendPending() throws SQLException {
        java.util.concurrent.Executor ex = handOff;
        if (ex == null) {
            dbLock.lock();
            try {
                appendPendingLocked();
            } finally {
                dbLock.unlock();
            }
            return;
        }
        try {
            ex.execute(this::appendPendingQuietly);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            dbLock.lock(); // shutting down: append here
            try {
                appendPendingLocked();
            } finally {
                dbLock.unlock();
            }
            return;
        }
        synchronized (this) {
            try {
                while (pending.size() > MAX_PENDING_CHUNKS && !closed) {
                    wait(1000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while the metrics store was busy", e);
            }
        }
    }

    /** Makes {@link #appendBatch} hand full chunks to {@code executor} (a single thread: the store's). */
    void handOffTo(java.util.concurrent.Executor executor) {
        this.handOff = executor;
    }

    private void appendPendingQuietly() {
        dbLock.lock();
        try {
            appendPendingLocked();
        } catch (SQLException | RuntimeException e) {
            LOG.error("metrics store: append failed; the points of the open transaction are lost", e);
            try {
                resetAfterFailure(e);
            } catch (RuntimeException again) {
                LOG.error("metrics store: reset after a failed append failed", again);
            }
        } finally {
            dbLock.unlock();
        }
    }

    /**
     * Gives every pending chunk, in order, to the Appender: first the series created for it, then its
     * points in arrival order. Under {@link #dbLock}. (Ordering points by (series, ts) was measured: it
     * made DuckDB's compression worse, 6.7 instead of 4.4 bytes a point, because runs of a series shorter
     * than the 2,048-value bit-packing groups cost a wide delta per group.)
     */
    private void appendPendingLocked() throws SQLException {
        if (closed) {
            throw new SQLException("metrics store is closed");
        }
        while (true) {
            Chunk c;
            synchronized (this) {
                c = pending.pollFirst();
                notifyAll(); // a writer waiting for room
            }
            if (c == null) {
                return;
            }
            insertSeries(c.created); // in the transaction of (before) their first points
            int n = c.n;
            int[] ids = c.series;
            long[] ts = c.ts;
            double[] vs = c.value;
            appenderLock.lock();
            try {
                for (int i = 0; i < n; i++) {
                    appender.beginRow().append(ids[i]).append(ts[i]).append(vs[i]).endRow();
                }
            } finally {
                appenderLock.unlock();
            }
            unflushed += n + c.created.size();
            c.n = 0;
            c.created = List.of();
            synchronized (this) {
                if (spare.isEmpty()) { // one kept for reuse: while the store keeps up, filling and appending alternate two chunks
                    spare.addLast(c);
                }
            }
        }
    }

    /** Inserts {@code created}, {@link #SERIES_ROWS} at a time and the rest in power-of-two parts; under {@link #dbLock}. */
    private void insertSeries(List<Series> created) throws SQLException {
        int from = 0;
        while (from < created.size()) {
            int i = Math.min(31 - Integer.numberOfLeadingZeros(created.size() - from), insertSeries.length - 1);
            int n = 1 << i; // the largest power of two that fits what is left
            PreparedStatement st = insertSeries[i];
            if (st == null) {
                st = writer.prepareStatement("INSERT INTO series VALUES "
                        + String.join(", ", java.util.Collections.nCopies(n, "(?, ?, ?, ?, ?)")));
                insertSeries[i] = st;
            }
            int p = 1;
            for (int k = from; k < from + n; k++) {
                Series s = created.get(k);
                st.setInt(p++, s.id());
                st.setString(p++, s.name());
                st.setString(p++, s.source());
                st.setString(p++, json(s.tags()));
                st.setString(p++, s.unit());
            }
            st.executeUpdate();
            from += n;
        }
    }

    /** Commits every appended point. */
    void flush() throws SQLException {
        dbLock.lock();
        try {
            if (closed) {
                return;
            }
            synchronized (this) {
                handOffCurrent();
            }
            try {
                appendPendingLocked();
                if (unflushed == 0) {
                    return;
                }
                appenderLock.lock();
                try {
                    appender.flush();
                } finally {
                    appenderLock.unlock();
                }
                writer.commit();
            } catch (SQLException | RuntimeException e) {
                resetAfterFailure(e);
                throw e;
            }
            unflushed = 0;
            flushes.increment();
        } finally {
            dbLock.unlock();
        }
    }

    /**
     * The transaction is gone (its new series with it): drop what is buffered and pending (its series may
     * not exist) and start clean from what is committed. Under {@link #dbLock}.
     */
    private void resetAfterFailure(Exception e) {
        unflushed = 0;
        synchronized (this) {
            pending.clear();
            current.n = 0;
            newSeries = new ArrayList<>();
            notifyAll();
        }
        try {
            writer.rollback();
            synchronized (this) {
                loadSeriesIndexOnly();
            }
            writer.commit();
        } catch (SQLException again) {
            e.addSuppressed(again);
        }
    }

    /**
     * Deletes points older than the retention, then the oldest points while the used size is above
     * the cap, drops series without points and checkpoints (folds the WAL into the file).
     */
    void enforceRetention(long nowMs) throws SQLException {
        long cutoff = nowMs - settings.retentionDays() * 86_400_000L;
        // under the write side's lock only: writers of batches go on buffering meanwhile (up to
        // MAX_PENDING_CHUNKS chunks), they no longer stall for the length of a CHECKPOINT
        dbLock.lock();
        try {
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
        } finally {
            dbLock.unlock();
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
            Runnable hook = beforeDropEmptySeries;
            if (hook != null) {
                hook.run();
            }
            dropEmptySeries();
            checkpoint();
            refreshSize();
        }
    }

    /** Tests: runs during a retention check just before empty series are dropped (writers may append then). */
    volatile Runnable beforeDropEmptySeries;

    /**
     * Drops the series left without points. The candidates are found without stopping the writers; only
     * if there are any, the writers wait while what they buffered is appended (a candidate may have
     * points there) and the candidates that still have none are deleted and the index re-read. Under
     * {@link #dbLock}, in auto-commit mode.
     */
    private void dropEmptySeries() throws SQLException {
        List<Integer> candidates = new ArrayList<>();
        try (Statement st = writer.createStatement();
                ResultSet rs = st.executeQuery("SELECT id FROM series WHERE id NOT IN (SELECT DISTINCT series_id FROM points_all)")) {
            while (rs.next()) {
                candidates.add(rs.getInt(1));
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        StringBuilder in = new StringBuilder();
        for (int id : candidates) {
            in.append(in.length() == 0 ? "" : ",").append(id);
        }
        synchronized (this) {
            handOffCurrent();
            appendPendingLocked();
            appenderLock.lock();
            try {
                appender.flush(); // auto-commit: committed
            } finally {
                appenderLock.unlock();
            }
            unflushed = 0;
            try (Statement st = writer.createStatement()) {
                int gone = st.executeUpdate("DELETE FROM series WHERE id IN (" + in + ") AND id NOT IN "
                        + "(SELECT DISTINCT series_id FROM points_all WHERE series_id IN (" + in + "))");
                if (gone > 0) {
                    loadSeriesIndexOnly();
                }
            }
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
        dbLock.lock();
        try {
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
        } finally {
            dbLock.unlock();
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
        dbLock.lock();
        try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        } finally {
            dbLock.unlock();
        }
    }

    /** One line of {@link #storageReport}. */
    interface StorageLine {
        void line(String table, String column, String compression, long segments, long values);
    }

    /** Which compression DuckDB chose for each column of both point tables (benchmarks, diagnosis). */
    void storageReport(StorageLine out) throws SQLException {
        dbLock.lock();
        try {
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
        } finally {
            dbLock.unlock();
        }
    }

    /**
     * Rows of {@code points_cold} that, in storage order, come before a row of the same compaction window
     * they should follow in (series_id, ts) order (tests: 0 after a compaction without late points).
     */
    long countUnsortedCold() throws SQLException {
        long w = Math.max(1, settings.compactWindowMs());
        dbLock.lock();
        try {
            try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM (SELECT series_id, ts, lag(series_id) OVER (ORDER BY rowid) ps, "
                            + "lag(ts) OVER (ORDER BY rowid) pt FROM points_cold) WHERE ps IS NOT NULL "
                            + "AND floor(ts / " + w + ") = floor(pt / " + w + ") AND (series_id < ps OR (series_id = ps AND ts < pt))")) {
                rs.next();
                return rs.getLong(1);
            }
        } finally {
            dbLock.unlock();
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
            withQueryThreads(c, () -> {
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        handler.row(rs);
                    }
                }
                return null;
            });
        } catch (RuntimeException e) {
            throw e; // PromQLException from a handler (the sample limit) among them
        } catch (Exception e) {
            throw new PromQLException("execution", "store query failed: " + e.getMessage());
        }
    }

    /**
     * Runs {@code body} with DuckDB at {@link Settings#threads} worker threads: the database runs with one
     * (ingest alone is cheaper so) and the first of concurrent queries raises it, the last one lowers it
     * again. {@code SET threads} is database-wide, so one counter for all queries. A {@code SET} that fails
     * is logged and does not fail the query (it then runs with the threads DuckDB has); a query only counts
     * once its raise went through, so a failed raise cannot leave the count, and the threads, stuck.
     */
    <T> T withQueryThreads(Connection c, java.util.concurrent.Callable<T> body) throws Exception {
        boolean counted = false;
        if (settings.threads() > 1) {
            synchronized (threadsLock) {
                if (activeQueries > 0 || setThreads(c, settings.threads())) {
                    activeQueries++;
                    counted = true;
                }
            }
        }
        try {
            return body.call();
        } finally {
            if (counted) {
                synchronized (threadsLock) {
                    if (--activeQueries == 0) {
                        setThreads(c, 1);
                    }
                }
            }
        }
    }

    /** {@code SET threads}; {@code false} (logged) if DuckDB refused it. */
    private static boolean setThreads(Connection c, int threads) {
        try (Statement st = c.createStatement()) {
            st.execute("SET threads = " + threads);
            return true;
        } catch (SQLException e) {
            LOG.warn("metrics store: SET threads = {} failed ({}); the query runs with DuckDB's current threads",
                    threads, e.getMessage());
            return false;
        }
    }

    /** DuckDB's current worker-thread setting (tests). */
    int engineThreads() throws SQLException {
        try (Connection c = reader(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('threads')")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    Connection reader() throws SQLException {
        synchronized (readBase) {
            if (closed) {
                throw new SQLException("metrics store is closed");
            }
            return readBase.duplicate();
        }
    }

    /** Commits what is appended and closes the database (a checkpoint folds the WAL in). */
    @Override
    public void close() {
        dbLock.lock();
        try {
            closeLocked();
        } finally {
            dbLock.unlock();
        }
    }

    private void closeLocked() {
        if (closed) {
            return;
        }
        try {
            synchronized (this) {
                handOffCurrent();
            }
            appendPendingLocked();
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
        synchronized (readBase) {
            closed = true;
        }
        synchronized (this) {
            notifyAll(); // writers waiting for room: they find the store closed
        }
        try {
            for (PreparedStatement st : insertSeries) {
                if (st != null) {
                    st.close();
                }
            }
            readBase.close();
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
