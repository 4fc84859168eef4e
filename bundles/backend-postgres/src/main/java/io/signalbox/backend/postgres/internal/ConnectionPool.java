package io.signalbox.backend.postgres.internal;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.postgresql.Driver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small pool: at most {@code pool.size} connections, opened on demand with the embedded
 * driver (never through {@code DriverManager}, which does not see bundle class loaders).
 * A connection that failed is discarded by its user; after a connection-level failure
 * ({@link #discardIdle()}) the idle ones are dropped too, since they most likely point at the
 * same dead server, so the next write after a server restart opens a fresh connection.
 */
final class ConnectionPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPool.class);

    private final String name;
    private final PostgresSettings settings;
    private final Driver driver = new Driver();
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private int open;
    private boolean closed;

    ConnectionPool(String name, PostgresSettings settings) {
        this.name = name;
        this.settings = settings;
    }

    /** An idle connection, or a new one if fewer than pool.size are open; waits up to the connect timeout otherwise. */
    Connection borrow() throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.connectTimeoutSeconds());
        synchronized (this) {
            while (true) {
                if (closed) {
                    throw new SQLException("postgres backend \"" + name + "\" is closed", "08003");
                }
                Connection c = idle.pollFirst();
                if (c != null) {
                    return c;
                }
                if (open < settings.poolSize()) {
                    open++;
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SQLException("postgres backend \"" + name + "\": all " + settings.poolSize()
                            + " connections busy for " + settings.connectTimeoutSeconds() + " s", "08004");
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while waiting for a connection", "08004", e);
                }
            }
        }
        try {
            Connection c = connect();
            LOG.debug("postgres {}: connection opened to {}", name, settings.safeUrl());
            return c;
        } catch (SQLException | RuntimeException e) {
            synchronized (this) {
                open--;
                notifyAll();
            }
            throw e;
        }
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", settings.user());
        String password;
        try {
            password = settings.password().value();
        } catch (IOException e) {
            throw new SQLException("postgres backend \"" + name + "\": cannot read the password ("
                    + settings.password().describe() + "): " + e.getClass().getSimpleName(), "28000", e);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        String timeout = Integer.toString(settings.connectTimeoutSeconds());
        props.setProperty("connectTimeout", timeout);
        props.setProperty("loginTimeout", timeout);
        props.setProperty("socketTimeout", Integer.toString(settings.socketTimeoutSeconds()));
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("ApplicationName", "signalbox");
        Connection c = driver.connect(settings.url(), props);
        if (c == null) {
            throw new SQLException("postgres backend \"" + name + "\": the driver does not accept " + settings.safeUrl(), "08001");
        }
        try {
            c.setAutoCommit(false);
        } catch (SQLException e) {
            closeQuietly(c);
            throw e;
        }
        return c;
    }

    /** Returns a connection that worked, or closes one that failed ({@code broken}). */
    void release(Connection c, boolean broken) {
        boolean close;
        synchronized (this) {
            close = broken || closed;
            if (close) {
                open--;
            } else {
                idle.addFirst(c);
            }
            notifyAll();
        }
        if (close) {
            closeQuietly(c);
        }
    }

    /** Closes the idle connections (after a connection-level failure: they are likely dead too). */
    void discardIdle() {
        List<Connection> drop;
        synchronized (this) {
            drop = new ArrayList<>(idle);
            idle.clear();
            open -= drop.size();
            notifyAll();
        }
        drop.forEach(this::closeQuietly);
    }

    synchronized int openConnections() {
        return open;
    }

    private void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            LOG.debug("postgres {}: closing a connection failed", name, e);
        }
    }

    /** Closes the idle connections; one in use is closed when it is released. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        discardIdle();
    }
}
