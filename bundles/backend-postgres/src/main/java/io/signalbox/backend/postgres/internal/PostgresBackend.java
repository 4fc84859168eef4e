package io.signalbox.backend.postgres.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonFactory;

import io.signalbox.api.BackendWriteStats;
import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;

/**
 * Writes each batch in one transaction: a {@code COPY ... FROM STDIN} (text format) of every
 * message into the events table and, if the batch has metric messages, a second COPY of those
 * into the typed metrics table. Never row by row.
 *
 * <p>Every message goes to the events table (its {@code data} keeps the whole payload), metric
 * messages additionally to the metrics table, so a query over "everything from a source" needs
 * one table and metric queries get typed columns.
 *
 * <p>A failed write rolls back (nothing of the batch stays), discards its connection and, on a
 * connection-level error, the idle ones, and throws; the routing channel retries the batch,
 * which then gets a fresh connection. So a server restart costs failed attempts, not messages,
 * and the retried batch is written once. (Only a commit whose acknowledgement is lost on the wire
 * can be written twice: at-least-once.)
 *
 * <p>The exception: a data exception (SQLSTATE class 22, e.g. a number {@code jsonb} cannot hold,
 * a value too long for a column the operator narrowed) raised by the COPY means the server refuses
 * this batch's content, so writing it again cannot succeed: the write throws
 * {@link BatchRejectedException} with the state and the server's message, and the routing channel
 * dead-letters the batch. Everything else (connection errors, shutdowns, serialization failures,
 * deadlocks, insufficient resources, a missing table) stays an ordinary, retried exception; after
 * 42P01 (table dropped underneath) the schema is checked again on the next write.
 *
 * <p>Tables are created on the first write (or {@link #ensureSchema()}) when
 * {@code schema.create=true}: hypertables if the {@code timescaledb} extension is available,
 * plain tables with a {@code ts} index otherwise; the log says which.
 */
public final class PostgresBackend implements BackendLifecycle.Instance<PostgresSettings> {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresBackend.class);
    private static final JsonFactory JSON = new JsonFactory();
    /** Bound of the server's message in a rejection reason (it is repeated on every dead-lettered line). */
    private static final int MAX_REASON_CHARS = 500;

    private final String name;
    private final CopyEncoder encoder = new CopyEncoder(JSON);
    private final RateLimitedLog limited = new RateLimitedLog(LOG);
    // replaced together by update(), under the write lock
    private volatile PostgresSettings settings;
    private volatile ConnectionPool pool;
    private String copyEvents;
    private String copyMetrics;
    private volatile boolean schemaReady;
    private volatile boolean closed;
    private volatile String storage = "unknown";

    private final BackendWriteStats stats;

    /** A backend for validated settings ({@link PostgresSettings#of}); it connects on the first write. */
    public PostgresBackend(String name, PostgresSettings settings) {
        this.name = name;
        this.stats = new BackendWriteStats("postgres", name);
        use(settings);
    }

    private void use(PostgresSettings s) {
        settings = s;
        pool = new ConnectionPool(name, s);
        copyEvents = "COPY " + s.eventsTable() + " (ts, src, type, tid, sid, pid, ctx, data) FROM STDIN";
        copyMetrics = "COPY " + s.metricsTable() + " (ts, src, name, value, unit, tags) FROM STDIN";
        schemaReady = !s.schemaCreate();
    }

    /**
     * Applies new (validated) settings from the next write on: waits for the write in flight,
     * closes the old pool's connections and checks the schema again on the next write.
     */
    @Override
    public synchronized void update(PostgresSettings s) {
        ConnectionPool old = pool;
        use(s);
        old.close();
    }

    public String name() {
        return name;
    }

    PostgresSettings settings() {
        return settings;
    }

    /** {@code timescaledb} or {@code plain} once the schema was checked, else {@code unknown}. */
    String storage() {
        return storage;
    }

    @Override
    public synchronized void write(Batch batch) throws Exception {
        if (closed) {
            throw new IllegalStateException("postgres backend \"" + name + "\" is closed");
        }
        if (batch.isEmpty()) {
            return;
        }
        ConnectionPool pool = this.pool;
        long start = System.nanoTime();
        encoder.encode(batch.messages());
        if (encoder.unparsed() > 0 || encoder.metricsWithoutValue() > 0) {
            limited.warn("content", "postgres {}: {} lines without readable ctx/data, {} metrics without a numeric value "
                    + "(no metrics row) in a batch of {}", name, encoder.unparsed(), encoder.metricsWithoutValue(),
                    batch.size());
        }
        Connection c;
        try {
            c = pool.borrow();
        } catch (SQLException e) {
            stats.failure();
            throw new SQLException("postgres backend \"" + name + "\": cannot connect to " + settings.safeUrl() + ": "
                    + e.getMessage(), e.getSQLState(), e);
        }
        boolean broken = true;
        boolean copying = false;
        try {
            if (!schemaReady) {
                createSchema(c);
            }
            copying = true;
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long sent = copy(copy, copyEvents, encoder.events);
            if (encoder.metricRows() > 0) {
                sent += copy(copy, copyMetrics, encoder.metrics);
            }
            c.commit();
            broken = false;
            stats.batch();
            stats.accepted(batch.size(), sent);
            long took = System.nanoTime() - start;
            stats.writeTime(took);
            LOG.debug("postgres {}: {} messages ({} metric rows, {} bytes) in {} µs", name, batch.size(),
                    encoder.metricRows(), sent, took / 1000);
        } catch (SQLException e) {
            stats.failure();
            rollback(c);
            String state = e.getSQLState();
            if (state == null || state.startsWith("08") || state.startsWith("57P") || c.isClosed()) {
                pool.discardIdle();
            }
            if ("42P01".equals(state) && settings.schemaCreate()) {
                schemaReady = false; // a table was dropped underneath: create it again on the next write
            }
            if (copying && refusesBatch(state)) {
                throw new BatchRejectedException("PostgreSQL refused the batch of " + batch.size() + " from "
                        + batch.source() + " (SQLSTATE " + state + "): " + serverMessage(e), e);
            }
            throw new SQLException("postgres backend \"" + name + "\": batch of " + batch.size() + " from "
                    + batch.source() + " not written (" + state + "): " + e.getMessage(), state, e);
        } catch (RuntimeException e) {
            stats.failure();
            rollback(c);
            throw e;
        } finally {
            pool.release(c, broken);
        }
    }

    /**
     * Whether a COPY error means the server refuses the batch's content, so that a retry cannot
     * succeed: class 22, data exception. Connection errors (08), shutdowns and cancels (57),
     * serialization failures and deadlocks (40), insufficient resources (53), a missing table
     * (42P01) may all succeed later.
     */
    static boolean refusesBatch(String sqlState) {
        return sqlState != null && sqlState.startsWith("22");
    }

    /**
     * The server's words on one line: message, detail and where (the COPY line and column, with
     * the start of the value); the driver's message if the error did not come from the server.
     */
    static String serverMessage(SQLException e) {
        ServerErrorMessage m = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String text;
        if (m != null && m.getMessage() != null) {
            StringBuilder sb = new StringBuilder(m.getMessage());
            if (m.getDetail() != null) {
                sb.append("; detail: ").append(m.getDetail());
            }
            if (m.getWhere() != null) {
                sb.append("; where: ").append(m.getWhere());
            }
            text = sb.toString();
        } else {
            text = String.valueOf(e.getMessage());
        }
        if (text.length() > MAX_REASON_CHARS) {
            text = text.substring(0, MAX_REASON_CHARS) + "…";
        }
        StringBuilder one = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            one.append(Character.isISOControl(ch) ? ' ' : ch);
        }
        return one.toString();
    }

    private static long copy(CopyManager copy, String sql, ByteBuf rows) throws SQLException {
        CopyIn in = copy.copyIn(sql);
        try {
            in.writeToCopy(rows.array(), 0, rows.size());
            in.endCopy();
            return rows.size();
        } finally {
            if (in.isActive()) {
                in.cancelCopy();
            }
        }
    }

    private void rollback(Connection c) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException e) {
            LOG.debug("postgres {}: rollback failed (the connection is discarded anyway)", name, e);
        }
    }

    /** Connects and creates the tables if configured to (idempotent); the log says which storage is used. */
    public synchronized void ensureSchema() throws SQLException {
        if (schemaReady) {
            return;
        }
        ConnectionPool pool = this.pool;
        Connection c = pool.borrow();
        boolean broken = true;
        try {
            createSchema(c);
            broken = false;
        } finally {
            pool.release(c, broken);
        }
    }

    private void createSchema(Connection c) throws SQLException {
        String events = settings.eventsTable();
        String metrics = settings.metricsTable();
        boolean timescale;
        try (Statement s = c.createStatement()) {
            timescale = timescaleAvailable(c, s);
            s.execute("CREATE TABLE IF NOT EXISTS " + events + " (ts timestamptz NOT NULL, src text NOT NULL, "
                    + "type text NOT NULL, tid text, sid text, pid text, ctx jsonb, data jsonb)");
            s.execute("CREATE TABLE IF NOT EXISTS " + metrics + " (ts timestamptz NOT NULL, src text NOT NULL, "
                    + "name text NOT NULL, value double precision NOT NULL, unit text, tags jsonb)");
            c.commit();
        } catch (SQLException e) {
            rollback(c);
            throw new SQLException("postgres backend \"" + name + "\": creating tables " + events + ", " + metrics
                    + " failed: " + e.getMessage(), e.getSQLState(), e);
        }
        if (timescale) {
            try (PreparedStatement ps = c.prepareStatement("SELECT create_hypertable(?::regclass, 'ts', if_not_exists => TRUE)")) {
                for (String table : new String[] {events, metrics}) {
                    ps.setString(1, table);
                    ps.execute();
                }
                c.commit();
            } catch (SQLException e) {
                rollback(c);
                timescale = false;
                LOG.warn("postgres {}: timescaledb is installed but create_hypertable failed ({}); using plain tables",
                        name, e.getMessage());
            }
        }
        if (!timescale) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE INDEX IF NOT EXISTS " + indexName(events, "ts") + " ON " + events + " (ts)");
                s.execute("CREATE INDEX IF NOT EXISTS " + indexName(events, "tid") + " ON " + events
                        + " (tid) WHERE tid IS NOT NULL");
                s.execute("CREATE INDEX IF NOT EXISTS " + indexName(metrics, "name_ts") + " ON " + metrics + " (name, ts)");
                c.commit();
            } catch (SQLException e) {
                rollback(c);
                throw new SQLException("postgres backend \"" + name + "\": creating indexes failed: " + e.getMessage(),
                        e.getSQLState(), e);
            }
        }
        storage = timescale ? "timescaledb" : "plain";
        schemaReady = true;
        LOG.info("postgres {}: tables {} and {} ready as {}", name, events, metrics,
                timescale ? "TimescaleDB hypertables (partitioned on ts)"
                        : "plain tables with an index on ts (timescaledb extension not available)");
    }

    /** Whether the extension is available, creating it if it is not yet created in this database. */
    private boolean timescaleAvailable(Connection c, Statement s) throws SQLException {
        boolean available;
        try (ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')")) {
            available = rs.next() && rs.getBoolean(1);
        }
        c.commit();
        if (!available) {
            return false;
        }
        try {
            s.execute("CREATE EXTENSION IF NOT EXISTS timescaledb");
            c.commit();
            return true;
        } catch (SQLException e) {
            rollback(c);
            LOG.warn("postgres {}: timescaledb is available but CREATE EXTENSION failed ({}); using plain tables",
                    name, e.getMessage());
            return false;
        }
    }

    /** {@code schema.table} → {@code table_ts_idx} (an index lives in its table's schema; the name is unqualified). */
    static String indexName(String table, String suffix) {
        String base = table.substring(table.indexOf('.') + 1);
        String idx = base + "_" + suffix + "_idx";
        return idx.length() > 63 ? idx.substring(idx.length() - 63) : idx;
    }

    @Override
    public void collect(MetricsSink sink) {
        stats.collect(sink);
        sink.gauge("signalbox_backend_postgres_connections_open", pool.openConnections(), "backend", name);
    }

    /** Closes idle connections; writes after this throw. */
    @Override
    public void close() {
        closed = true;
        pool.close();
    }

    @Override
    public String toString() {
        return "PostgresBackend[" + name + " → " + settings.safeUrl() + "]";
    }
}
