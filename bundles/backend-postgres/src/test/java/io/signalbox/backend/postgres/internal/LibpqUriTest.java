package io.signalbox.backend.postgres.internal;

import static io.signalbox.backend.postgres.internal.Fixtures.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.signalbox.api.ConfigCheck;

/** The libpq connection URI of the design documents, as {@code url} of the postgres backend. */
class LibpqUriTest {

    @Test
    void theDocumentsUriBecomesAJdbcUrlWithUserAndPasswordTakenOut() {
        LibpqUri u = LibpqUri.parse("postgresql://user:pass@localhost:5432/monitoring");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/monitoring");
        assertThat(u.user()).isEqualTo("user");
        assertThat(u.password()).isEqualTo("pass");
        assertThat(u.toString()).doesNotContain("pass@").contains("password set");
    }

    @Test
    void percentEncodingIsDecodedInUserPasswordAndDatabase() {
        LibpqUri u = LibpqUri.parse("postgres://m%C3%BCller:p%40ss%3Aw%2Fo%25rd@db.example.com/my%20db");
        assertThat(u.user()).isEqualTo("müller");
        assertThat(u.password()).isEqualTo("p@ss:w/o%rd");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com/my%20db");
    }

    @Test
    void missingPortHostDatabaseAndCredentialsTakeLibpqDefaults() {
        assertThat(LibpqUri.parse("postgresql://h/db").jdbcUrl()).isEqualTo("jdbc:postgresql://h/db");
        LibpqUri bare = LibpqUri.parse("postgresql://");
        assertThat(bare.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost/postgres");
        assertThat(bare.user()).isNull();
        assertThat(bare.password()).isNull();
        LibpqUri noDb = LibpqUri.parse("postgresql://alice@h:6543");
        assertThat(noDb.jdbcUrl()).as("the database is named after the user").isEqualTo("jdbc:postgresql://h:6543/alice");
        assertThat(noDb.password()).isNull();
        assertThat(LibpqUri.parse("postgresql://[::1]:5433/db").jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5433/db");
        assertThat(LibpqUri.parse("postgresql://h1:5432,h2:5433/db").jdbcUrl())
                .isEqualTo("jdbc:postgresql://h1:5432,h2:5433/db");
    }

    @Test
    void queryParametersPassOnUnderPgjdbcNamesAndCredentialsInTheQueryAreTakenOut() {
        LibpqUri u = LibpqUri.parse("postgresql://h/db?sslmode=require&application_name=side%20car"
                + "&connect_timeout=7&user=bob&password=s%26cret&port=6000");
        assertThat(u.jdbcUrl())
                .isEqualTo("jdbc:postgresql://h:6000/db?sslmode=require&ApplicationName=side%20car&connectTimeout=7");
        assertThat(u.user()).isEqualTo("bob");
        assertThat(u.password()).isEqualTo("s&cret");
        assertThat(LibpqUri.parse("postgresql:///?dbname=x&host=10.0.0.1").jdbcUrl())
                .isEqualTo("jdbc:postgresql://10.0.0.1/x");
    }

    @Test
    void badUrisAreRejectedWithoutQuotingThePassword() {
        assertThatThrownBy(() -> LibpqUri.parse("postgresql://u:hunter2@h:99999/db"))
                .hasMessageContaining("port '99999' is not a number 1..65535").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> LibpqUri.parse("postgresql://u:hunt%ZZer2@h/db"))
                .hasMessageContaining("bad percent-encoding in the password").hasMessageNotContaining("hunt");
        assertThatThrownBy(() -> LibpqUri.parse("postgresql://u:hunter2@h/db?frobnicate=1"))
                .hasMessageContaining("parameter 'frobnicate' is not supported").hasMessageContaining("sslmode")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> LibpqUri.parse("postgresql://u:hunter2@h o/db"))
                .hasMessageContaining("is not a host name").hasMessageNotContaining("hunter2");
    }

    @Test
    void theBackendsOwnUrlSettingAcceptsTheUriAndNeverShowsItsPassword() {
        PostgresSettings s = Fixtures.settings(props("url", "postgresql://app:hunter2@127.0.0.1:5433/mon?sslmode=disable"));
        assertThat(s.url()).isEqualTo("jdbc:postgresql://127.0.0.1:5433/mon?sslmode=disable");
        assertThat(s.user()).isEqualTo("app");
        assertThat(s.password().describe()).isEqualTo("from the connection URI in 'url'");
        assertThat(s.describe()).contains("url=jdbc:postgresql://127.0.0.1:5433/mon?…", "user=app")
                .doesNotContain("hunter2");
        assertThat(s.toString()).doesNotContain("hunter2");
    }

    @Test
    void aUriPasswordBesidesAPasswordSettingOrAnotherUserIsRejected() {
        assertThatThrownBy(() -> Fixtures.settings(props("url", "postgresql://app:hunter2@h/db", "password", "x")))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("not both")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> Fixtures.settings(props("url", "postgresql://app:hunter2@h/db", "user", "bob")))
                .hasMessageContaining("differ").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> Fixtures.settings(props("url", "postgresql://app:hunter2@h:0/db")))
                .isInstanceOf(ConfigCheck.Rejected.class).hasMessageContaining("port '0'")
                .hasMessageNotContaining("hunter2");
        // the same user twice is fine; a URI without user keeps the 'user' setting
        assertThat(Fixtures.settings(props("url", "postgresql://app@h/db", "user", "app")).user()).isEqualTo("app");
        assertThat(Fixtures.settings(props("url", "postgresql://h/db", "user", "carol")).user()).isEqualTo("carol");
    }
}
