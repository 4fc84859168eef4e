package io.signalbox.backend.postgres.internal;

import static io.signalbox.api.FakeFramework.fileConfig;
import static io.signalbox.backend.postgres.internal.Fixtures.event;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.ComponentHarness;
import io.signalbox.api.FakeFramework.Registered;
import io.signalbox.api.MetricSamples;
import io.signalbox.api.StatsSource;

/**
 * The DS component against a real PostgreSQL with a password: what it registers (and never
 * publishes), and how it treats invalid and valid configurations.
 */
class PostgresBackendComponentTest {
    private static final String SECRET = "c0mp0nent-Secret";
    @RegisterExtension
    static final PostgresServer pg = new PostgresServer(SECRET);

    private static int tableNo;

    @RegisterExtension
    final ComponentHarness<PostgresBackend> component = ComponentHarness.of(PostgresBackend.class,
            () -> new PostgresBackendComponent(n -> n.equals("SIGNALBOX_PG_PASSWORD") ? SECRET : null));

    /** Properties as fileinstall delivers them for etc/io.signalbox.backend.postgres-db.cfg, on fresh tables. */
    private static Map<String, Object> props(Object... more) {
        tableNo++;
        Map<String, Object> m = Fixtures.props("url", pg.url(), "user", pg.user(), "password", "${env:SIGNALBOX_PG_PASSWORD}",
                "events.table", "comp_ev" + tableNo, "metrics.table", "comp_me" + tableNo, "connect.timeout.seconds", 5);
        m.putAll(fileConfig(PostgresConfig.PID, "db", more));
        return m;
    }

    private static long count(String table) throws SQLException {
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Batch batch(int n) {
        List<io.signalbox.api.Message> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ms.add(event("svc", 1_763_900_000_000L + i, null, null, null, "\"m" + i + "\""));
        }
        return new Batch("svc", ms);
    }

    @Test
    void registersBackendAndStatsWithNameAndKindAndNeverThePasswordOrItsVariable() throws Exception {
        Map<String, Object> p = props();
        component.activate(p);
        Registered r = component.registered("db");
        assertThat(r.classes()).containsExactly(Backend.class.getName(), StatsSource.class.getName());
        assertThat(r.properties()).containsEntry(Backend.KIND, "postgres")
                .containsEntry("service.pid", "io.signalbox.backend.postgres~db")
                .doesNotContainKeys("password", "url", "user");
        assertThat(r.properties().values()).noneMatch(v -> String.valueOf(v).contains(SECRET));
        Backend b = (Backend) r.service();
        b.write(batch(3));
        assertThat(count((String) p.get("events.table"))).isEqualTo(3);
        assertThat(MetricSamples.of((StatsSource) b).value("signalbox_backend_postgres_messages_total", "backend", "db"))
                .isEqualTo(3);
    }

    @Test
    void anExplicitNameWinsOverTheFileName() {
        component.activate(props("name", "warehouse"));
        component.registered("warehouse");
    }

    @Test
    void anInvalidFirstConfigurationIsRejectedAndRegistersNothing() {
        component.assertRejected(props("pool.siz", 3), "did you mean 'pool.size'");
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForce() throws Exception {
        Map<String, Object> p = props();
        PostgresBackend before = component.activate(p);
        component.modify(props("pool.size", 0));
        assertThat(before.settings().eventsTable()).isEqualTo(p.get("events.table"));
        before.write(batch(4));
        assertThat(count((String) p.get("events.table"))).isEqualTo(4);
        assertThat(component.registered("db").service()).isSameAs(before);
    }

    @Test
    void aValidModificationAppliesFromTheNextBatchWithoutReregistering() throws Exception {
        Map<String, Object> p = props();
        PostgresBackend backend = component.activate(p);
        backend.write(batch(2));
        Map<String, Object> changed = props();
        component.modify(changed);
        backend.write(batch(5));
        assertThat(count((String) p.get("events.table"))).isEqualTo(2);
        assertThat(count((String) changed.get("events.table"))).isEqualTo(5);
        assertThat(component.registered("db").service()).isSameAs(backend);
    }

    @Test
    void aRenameRegistersAnewAndDeactivationUnregisters() {
        PostgresBackend old = component.activate(props());
        component.modify(props("name", "db2"));
        assertThat(component.registered("db2").service()).isNotSameAs(old);
        component.deactivate();
        assertThat(component.registered()).isEmpty();
    }
}
