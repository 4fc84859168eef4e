package io.signalbox.backend.postgres.internal;

import static io.signalbox.backend.postgres.internal.Fixtures.event;
import static io.signalbox.backend.postgres.internal.Fixtures.metric;
import static io.signalbox.backend.postgres.internal.Fixtures.props;
import static io.signalbox.backend.postgres.internal.Fixtures.quote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MetricSamples;

/** Against a real PostgreSQL started for this class (see {@link PostgresServer}). */
class PostgresBackendTest {
    @RegisterExtension
    static final PostgresServer pg = new PostgresServer(null);

    private static int tableNo;
    private final List<PostgresBackend> backends = new ArrayList<>();

    @AfterEach
    void closeBackends() {
        backends.forEach(PostgresBackend::close);
    }

    /** A backend on fresh tables of its own. */
    private PostgresBackend backend(String name, Object... more) {
        tableNo++;
        Map<String, Object> p = props("url", pg.url(), "user", pg.user(), "events.table", "ev" + tableNo,
                "metrics.table", "me" + tableNo, "connect.timeout.seconds", 5);
        p.putAll(props(more));
        PostgresBackend b = new PostgresBackend(name, Fixtures.settings(p));
        backends.add(b);
        return b;
    }

    private static List<List<Object>> rows(String sql) throws SQLException {
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<List<Object>> out = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getObject(i));
                }
                out.add(row);
            }
            return out;
        }
    }

    /** {@code signalbox_backend_postgres_<name>{backend="<the backend's name>"}}. */
    private static double stat(PostgresBackend b, String name) {
        return MetricSamples.of(b).value("signalbox_backend_postgres_" + name, "backend", b.name());
    }

    private static long count(String table) throws SQLException {
        return ((Number) rows("SELECT count(*) FROM " + table).get(0).get(0)).longValue();
    }

    @Test
    void createsBothTablesWithTheirColumnsAndTsIndexesOnPlainPostgres() throws Exception {
        PostgresBackend b = backend("schema");
        b.ensureSchema();
        String ev = b.settings().eventsTable();
        String me = b.settings().metricsTable();
        assertThat(b.storage()).isEqualTo("plain");
        assertThat(rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '" + ev
                + "' ORDER BY ordinal_position")).containsExactly(
                List.of("ts", "timestamp with time zone"), List.of("src", "text"), List.of("type", "text"),
                List.of("tid", "text"), List.of("sid", "text"), List.of("pid", "text"), List.of("ctx", "jsonb"),
                List.of("data", "jsonb"));
        assertThat(rows("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '" + me
                + "' ORDER BY ordinal_position")).containsExactly(
                List.of("ts", "timestamp with time zone"), List.of("src", "text"), List.of("name", "text"),
                List.of("value", "double precision"), List.of("unit", "text"), List.of("tags", "jsonb"));
        assertThat(rows("SELECT indexdef FROM pg_indexes WHERE tablename IN ('" + ev + "','" + me + "')"))
                .extracting(r -> (String) r.get(0))
                .anySatisfy(d -> assertThat(d).contains(ev).endsWith("(ts)"))
                .anySatisfy(d -> assertThat(d).contains(me).endsWith("(name, ts)"));
        b.ensureSchema(); // idempotent
    }

    @Test
    void everyMessageOfABatchIsReadBackWithAllFields() throws Exception {
        PostgresBackend b = backend("fields");
        List<Message> batch = new ArrayList<>();
        long ts0 = OffsetDateTime.of(2026, 11, 23, 12, 0, 0, 0, ZoneOffset.UTC).toInstant().toEpochMilli();
        for (int i = 0; i < 250; i++) {
            batch.add(event("svc", ts0 + i, "t" + i, "s" + i, i % 2 == 0 ? null : "p" + i, quote("message " + i)));
        }
        b.write(new Batch("svc", batch));
        List<List<Object>> rows = rows("SELECT extract(epoch from ts) * 1000, src, type, tid, sid, pid, ctx::text, "
                + "data->>'msg', data->>'level' FROM " + b.settings().eventsTable() + " ORDER BY ts");
        assertThat(rows).hasSize(250);
        for (int i = 0; i < 250; i++) {
            List<Object> r = rows.get(i);
            assertThat(((Number) r.get(0)).longValue()).isEqualTo(ts0 + i);
            assertThat(r.subList(1, 6)).containsExactly("svc", "event", "t" + i, "s" + i, i % 2 == 0 ? null : "p" + i);
            assertThat(r.get(6)).isEqualTo("{\"host\": \"h1\", \"job_id\": \"t" + i + "\"}");
            assertThat(r.subList(7, 9)).containsExactly("message " + i, "info");
        }
        assertThat(stat(b, "batches_total")).isEqualTo(1);
        assertThat(stat(b, "messages_total")).isEqualTo(250);
        assertThat(stat(b, "failures_total")).isZero();
        assertThat(stat(b, "write_seconds_count")).isEqualTo(1);
        assertThat(stat(b, "bytes_total")).isPositive();
    }

    @Test
    void quotesBackslashesTabsNewlinesAndUnicodeSurviveTheRoundTrip() throws Exception {
        PostgresBackend b = backend("escape");
        List<String> texts = List.of("say \"hi\"", "C:\\path\\to\\file", "a\tb", "line1\nline2\r\n", "\\N",
                "\\.", "grüße 日本語 😀 ∑", "it's -- ; DROP TABLE x;", "\u0001\u001f", "back\\slash\tand\nall\"");
        List<Message> batch = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            batch.add(event("src\t\"\\" + i, 1000 + i, "tid\n" + t, null, null, quote(t)));
        }
        // NUL escapes are replaced (jsonb refuses \u0000), not a reason to fail the batch
        batch.add(event("nul", 5000, null, null, null, "\"a\\u0000b\""));
        b.write(new Batch("mixed", batch));
        List<List<Object>> rows = rows("SELECT src, tid, data->>'msg' FROM " + b.settings().eventsTable() + " ORDER BY ts");
        for (int i = 0; i < texts.size(); i++) {
            assertThat(rows.get(i)).containsExactly("src\t\"\\" + i, "tid\n" + texts.get(i), texts.get(i));
        }
        assertThat(rows.get(texts.size())).containsExactly("nul", null, "a\uFFFDb");
    }

    @Test
    void metricMessagesGoToTheTypedMetricsTableAndToTheEventsTable() throws Exception {
        PostgresBackend b = backend("metrics");
        b.write(new Batch("app", List.of(
                metric("app", 1000, "cpu.load", 0.75, "ratio", "{\"host\":\"h1\",\"core\":2}"),
                event("app", 1001, null, null, null, "\"started\""),
                metric("app", 1002, "queue.depth", 12345678901.0, null, null),
                metric("app", 1003, "temp", -3.5e-7, "°C", "{}"))));
        assertThat(rows("SELECT (extract(epoch from ts) * 1000)::bigint, src, name, value, unit, tags::text FROM "
                + b.settings().metricsTable() + " ORDER BY ts")).containsExactly(
                List.of(1000L, "app", "cpu.load", 0.75, "ratio", "{\"core\": 2, \"host\": \"h1\"}"),
                listOf(1002L, "app", "queue.depth", 12345678901.0, null, null),
                List.of(1003L, "app", "temp", -3.5e-7, "°C", "{}"));
        assertThat(count(b.settings().eventsTable())).isEqualTo(4);
        assertThat(rows("SELECT data->>'name' FROM " + b.settings().eventsTable() + " WHERE type = 'metric' ORDER BY ts"))
                .extracting(r -> r.get(0)).containsExactly("cpu.load", "queue.depth", "temp");
    }

    private static List<Object> listOf(Object... values) {
        return java.util.Arrays.asList(values);
    }

    @Test
    void serverRestartInTheMiddleOfAStreamLosesNothingAndWritesTheRetriedBatchOnce() throws Exception {
        PostgresBackend b = backend("restart");
        String table = b.settings().eventsTable();
        int batches = 20;
        int size = 100;
        int attempts = 0;
        int failures = 0;
        for (int n = 0; n < batches; n++) {
            List<Message> messages = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                int id = n * size + i;
                messages.add(event("svc", 1_000_000L + id, "id" + id, null, null, quote("m" + id)));
            }
            Batch batch = new Batch("svc", messages);
            if (n == batches / 2) {
                pg.stop();
                attempts++;
                // an ordinary SQLException (not BatchRejectedException): the channel retries
                assertThatThrownBy(() -> b.write(batch)).isInstanceOf(SQLException.class)
                        .hasMessageContaining("not written");
                failures++;
                attempts++;
                assertThatThrownBy(() -> b.write(batch)).isInstanceOf(SQLException.class)
                        .hasMessageContaining("cannot connect");
                failures++;
                pg.start();
            }
            attempts++;
            b.write(batch); // as routing would retry: the same batch again
        }
        assertThat(count(table)).isEqualTo((long) batches * size);
        assertThat(rows("SELECT count(DISTINCT tid) FROM " + table).get(0).get(0)).isEqualTo((long) batches * size);
        assertThat(stat(b, "failures_total")).isEqualTo(failures);
        assertThat(stat(b, "batches_total")).isEqualTo(batches);
        assertThat(attempts).isEqualTo(batches + failures);
    }

    @Test
    void aWriteToATableDroppedUnderneathFailsRetryablyNamingTheTableAndTheRetryCreatesItAgain() throws Exception {
        PostgresBackend b = backend("dropped");
        b.write(new Batch("s", List.of(event("s", 1, null, null, null, "\"x\""))));
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement()) {
            s.execute("DROP TABLE " + b.settings().eventsTable());
        }
        Batch batch = new Batch("s", List.of(event("s", 2, null, null, null, "\"y\"")));
        assertThatThrownBy(() -> b.write(batch))
                .isInstanceOf(SQLException.class) // not BatchRejectedException: retried
                .hasMessageContaining(b.settings().eventsTable())
                .hasMessageContaining("42P01");
        b.write(batch); // the channel's retry: the schema is checked again
        assertThat(count(b.settings().eventsTable())).isEqualTo(1);
    }

    @Test
    void aNumberJsonbCannotHoldRejectsTheBatchWithTheStateAndTheServersMessage() throws Exception {
        PostgresBackend b = backend("overflow");
        Batch bad = new Batch("svc", List.of(
                event("svc", 1, null, null, null, "\"fine\""),
                event("svc", 2, null, null, null, "1e999999")));

        assertThatThrownBy(() -> b.write(bad))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessageStartingWith("PostgreSQL refused the batch of 2 from svc (SQLSTATE 22")
                .hasMessageContaining("COPY " + b.settings().eventsTable() + ", line 2, column data")
                .hasMessageNotContaining("\n")
                .hasCauseInstanceOf(SQLException.class);
        assertThat(count(b.settings().eventsTable())).as("rolled back").isZero();
        assertThat(stat(b, "failures_total")).isEqualTo(1);

        b.write(new Batch("svc", List.of(event("svc", 3, null, null, null, "\"next\"")))); // the channel goes on
        assertThat(count(b.settings().eventsTable())).isEqualTo(1);
    }

    @Test
    void aColumnTheOperatorNarrowedRejectsTheBatchWithoutShowingThePassword() throws Exception {
        tableNo++;
        String ev = "narrow_ev" + tableNo;
        String me = "narrow_me" + tableNo;
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + ev + " (ts timestamptz NOT NULL, src varchar(8) NOT NULL, type text NOT NULL, "
                    + "tid text, sid text, pid text, ctx jsonb, data jsonb)");
            s.execute("CREATE TABLE " + me + " (ts timestamptz NOT NULL, src text NOT NULL, name text NOT NULL, "
                    + "value double precision NOT NULL, unit text, tags jsonb)");
        }
        PostgresBackend b = new PostgresBackend("narrow", Fixtures.settings(props("url", pg.url(), "user", pg.user(),
                "password", "pw-n3ver-sh0wn", "events.table", ev, "metrics.table", me, "schema.create", false)));
        backends.add(b);

        b.write(new Batch("short", List.of(event("short", 1, null, null, null, "\"ok\""))));
        assertThatThrownBy(() -> b.write(new Batch("a-much-longer-source",
                List.of(event("a-much-longer-source", 2, null, null, null, "\"too long\"")))))
                .isInstanceOf(BatchRejectedException.class)
                .hasMessageContaining("SQLSTATE 22001")
                .hasMessageContaining("character varying(8)")
                .hasMessageNotContaining("pw-n3ver-sh0wn")
                .hasMessageNotContaining(pg.url());
        assertThat(count(ev)).isEqualTo(1);
    }

    @Test
    void onlyDataExceptionsRefuseTheBatchEveryOtherStateIsRetried() {
        for (String state : List.of("22001", "22003", "22P02", "22P05", "22021", "22007")) {
            assertThat(PostgresBackend.refusesBatch(state)).as(state).isTrue();
        }
        for (String state : List.of("08006", "08001", "57P01", "57014", "40001", "40P01", "53100", "53200", "53300",
                "42P01", "23502", "XX000")) {
            assertThat(PostgresBackend.refusesBatch(state)).as(state).isFalse();
        }
        assertThat(PostgresBackend.refusesBatch(null)).isFalse();
    }

    @Test
    void aConnectionTerminatedByTheServerStaysRetryable() throws Exception {
        PostgresBackend b = backend("terminated");
        b.write(new Batch("s", List.of(event("s", 1, null, null, null, "\"x\""))));
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    + "WHERE application_name = 'signalbox' AND pid <> pg_backend_pid()");
        }
        Batch batch = new Batch("s", List.of(event("s", 2, null, null, null, "\"y\"")));
        assertThatThrownBy(() -> b.write(batch))
                .isInstanceOf(SQLException.class) // not BatchRejectedException: retried
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).matches("57P01|08.*"));
        b.write(batch); // the channel's retry, on a fresh connection
        assertThat(count(b.settings().eventsTable())).isEqualTo(2);
    }
}
