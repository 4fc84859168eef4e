package io.signalbox.backend.postgres.internal;

import static io.signalbox.backend.postgres.internal.Fixtures.event;
import static io.signalbox.backend.postgres.internal.Fixtures.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Batch;

/** Against a real PostgreSQL that requires a password (scram-sha-256). */
class PasswordTest {
    private static final String SECRET = "s3cr3t-Pa55_word";

    @RegisterExtension
    static final PostgresServer pg = new PostgresServer(SECRET);

    private static PostgresConfig config(Map<String, Object> p) {
        return Fixtures.config(p);
    }

    @Test
    void passwordFromAnEnvironmentVariableAuthenticatesAndIsNeverLoggedNorDescribed() throws Exception {
        Map<String, Object> p = props("url", pg.url(), "user", pg.user(), "password", "${env:SIGNALBOX_PG_PASSWORD}",
                "events.table", "env_events", "metrics.table", "env_metrics");
        String log = capturingStderr(() -> {
            PostgresSettings s = PostgresSettings.of(config(p), p, n -> n.equals("SIGNALBOX_PG_PASSWORD") ? SECRET : null);
            assertThat(s.describe()).contains("password from ${env:SIGNALBOX_PG_PASSWORD}")
                    .doesNotContain(SECRET);
            assertThat(s.toString()).doesNotContain(SECRET);
            PostgresBackend b = new PostgresBackend("env", s);
            try {
                b.write(new Batch("s", List.of(event("s", 1, null, null, null, "\"hello\""))));
            } finally {
                b.close();
            }
        });
        assertThat(log).contains("tables env_events and env_metrics ready").doesNotContain(SECRET);
    }

    @Test
    void aLibpqConnectionUriWithPercentEncodedPasswordAuthenticatesAndItsPasswordIsNeverLogged() throws Exception {
        // pg.url() is jdbc:postgresql://127.0.0.1:<port>/signalbox; the documents write postgresql://user:pass@host:port/db
        String hostPortDb = pg.url().substring("jdbc:postgresql://".length());
        String uri = "postgresql://" + pg.user() + ":" + SECRET.replace("_", "%5F") + "@" + hostPortDb + "?sslmode=disable";
        Map<String, Object> p = props("url", uri, "events.table", "uri_events", "metrics.table", "uri_metrics");
        String log = capturingStderr(() -> {
            PostgresSettings s = PostgresSettings.of(config(p), p, n -> null);
            assertThat(s.describe()).doesNotContain(SECRET).doesNotContain("5F");
            PostgresBackend b = new PostgresBackend("uri", s);
            try {
                b.write(new Batch("s", List.of(event("s", 1, null, null, null, "\"via uri\""))));
            } finally {
                b.close();
            }
        });
        assertThat(log).contains("tables uri_events and uri_metrics ready").doesNotContain(SECRET)
                .doesNotContain(SECRET.replace("_", "%5F"));
        try (var c = pg.connect("signalbox"); var st = c.createStatement();
                var rs = st.executeQuery("select count(*) from uri_events where data->>'msg' = 'via uri'")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    void passwordFromAFileAuthenticatesWithoutItsTrailingNewline(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pg.pw");
        Files.writeString(file, SECRET + "\n");
        Map<String, Object> p = props("url", pg.url(), "user", pg.user(), "password.file", file.toString(),
                "events.table", "file_events", "metrics.table", "file_metrics");
        PostgresSettings s = PostgresSettings.of(config(p), p, n -> null);
        assertThat(s.describe()).contains("password from file " + file).doesNotContain(SECRET);
        PostgresBackend b = new PostgresBackend("file", s);
        try {
            b.write(new Batch("s", List.of(event("s", 1, null, null, null, "\"hello\""))));
        } finally {
            b.close();
        }
    }

    @Test
    void aWrongPasswordFailsTheWriteWithoutShowingAnyPassword() throws Exception {
        String wrong = "wrong-" + SECRET;
        Map<String, Object> p = props("url", pg.url(), "user", pg.user(), "password", wrong);
        String log = capturingStderr(() -> {
            PostgresBackend b = new PostgresBackend("wrong", PostgresSettings.of(config(p), p, n -> null));
            try {
                assertThatThrownBy(() -> b.write(new Batch("s", List.of(event("s", 1, null, null, null, "\"x\"")))))
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("password authentication failed")
                        .satisfies(e -> assertThat(stackText(e)).doesNotContain(wrong).doesNotContain(SECRET));
            } finally {
                b.close();
            }
        });
        assertThat(log).doesNotContain(wrong);
    }

    private static String stackText(Throwable e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            e.printStackTrace(ps);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    interface Body {
        void run() throws Exception;
    }

    /** slf4j-simple writes to the current System.err: capture what a body logs. */
    private static String capturingStderr(Body body) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8);
        System.setErr(capture);
        try {
            body.run();
        } finally {
            System.setErr(original);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        original.print(text);
        return text;
    }
}
