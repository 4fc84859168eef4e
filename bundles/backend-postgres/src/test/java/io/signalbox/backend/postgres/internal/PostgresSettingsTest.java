package io.signalbox.backend.postgres.internal;

import static io.signalbox.backend.postgres.internal.Fixtures.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.signalbox.api.ConfigCheck;

class PostgresSettingsTest {
    @Test
    void defaultsAreTheDocumentedOnes() {
        PostgresSettings s = Fixtures.settings(props());
        assertThat(s.url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/signalbox");
        assertThat(s.user()).isEqualTo("signalbox");
        assertThat(s.eventsTable()).isEqualTo("monitoring_events");
        assertThat(s.metricsTable()).isEqualTo("monitoring_metrics");
        assertThat(s.schemaCreate()).isTrue();
        assertThat(s.connectTimeoutSeconds()).isEqualTo(10);
        assertThat(s.poolSize()).isEqualTo(2);
        assertThat(s.password().describe()).isEqualTo("none");
    }

    @Test
    void unknownKeysBadValuesAndUnsafeTableNamesAreRejectedTogether() {
        assertThatThrownBy(() -> Fixtures.settings(props("pool.szie", 3)))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("did you mean 'pool.size'");
        assertThatThrownBy(() -> Fixtures.settings(props("url", "jdbc:mysql://x/y", "events.table", "x; DROP TABLE y",
                "pool.size", 0, "user", " ")))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'url' must be a PostgreSQL JDBC URL")
                .hasMessageContaining("'events.table' must be a lower-case identifier")
                .hasMessageContaining("'pool.size' must be 1..64")
                .hasMessageContaining("'user' is required");
        assertThat(Fixtures.settings(props("events.table", "mon.events")).eventsTable()).isEqualTo("mon.events");
    }

    @Test
    void passwordInTheUrlOrBothPasswordSourcesOrAnUnsetVariableAreRejectedWithoutTheValue() {
        assertThatThrownBy(() -> Fixtures.settings(props("url", "jdbc:postgresql://h/db?password=hunter2")))
                .hasMessageContaining("must not carry the password").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> Fixtures.settings(props("password", "hunter2", "password.file", "/etc/hostname")))
                .hasMessageContaining("not both").hasMessageNotContaining("hunter2");
        Map<String, Object> p = props("password", "${env:NO_SUCH_VAR_X}");
        assertThatThrownBy(() -> PostgresSettings.of(Fixtures.config(p), p, n -> null))
                .hasMessageContaining("environment variable NO_SUCH_VAR_X, which is not set");
        assertThatThrownBy(() -> Fixtures.settings(props("password.file", "/no/such/file")))
                .hasMessageContaining("is not a readable file");
    }

    @Test
    void describeAndToStringNeverShowAnInlinePasswordNorTheUrlQuery() {
        PostgresSettings s = Fixtures.settings(props("password", "hunter2", "url", "jdbc:postgresql://h:5/db?sslmode=require"));
        assertThat(s.describe()).contains("password set in the configuration", "url=jdbc:postgresql://h:5/db?…")
                .doesNotContain("hunter2").doesNotContain("sslmode");
        assertThat(s.toString()).doesNotContain("hunter2");
    }
}
