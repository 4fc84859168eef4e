package io.signalbox.backend.postgres.internal;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link PostgresCluster} for one test class, started before its first test and deleted after
 * its last: {@code @RegisterExtension static final PostgresServer pg = new PostgresServer(password);}.
 * (The cluster itself stays free of JUnit: the benchmark in {@code load/} uses it.)
 */
final class PostgresServer implements BeforeAllCallback, AfterAllCallback {
    private final String password;
    private PostgresCluster cluster;

    /** @param password the superuser's password (then required, scram-sha-256), or {@code null} */
    PostgresServer(String password) {
        this.password = password;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        cluster = PostgresCluster.create(password, false);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/signalbox}. */
    String url() {
        return cluster.url();
    }

    String user() {
        return cluster.user();
    }

    /** A new connection (autocommit) to {@code database} as the superuser. */
    Connection connect(String database) throws SQLException {
        return cluster.connect(database);
    }

    /** Stops the server (open connections are cut) until {@link #start}. */
    void stop() throws IOException {
        cluster.stop();
    }

    void start() throws IOException {
        cluster.start();
    }
}
