package io.signalbox.backend.postgres.internal;

import static io.signalbox.backend.postgres.internal.Fixtures.config;
import static io.signalbox.backend.postgres.internal.Fixtures.context;
import static io.signalbox.backend.postgres.internal.Fixtures.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;
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

    private final List<Fixtures.Registered> registered = new ArrayList<>();
    private PostgresBackendComponent component;

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
    }

    /** Properties as fileinstall delivers them for etc/io.signalbox.backend.postgres-db.cfg, on fresh tables. */
    private static Map<String, Object> props(Object... more) {
        tableNo++;
        Map<String, Object> m = Fixtures.props("url", pg.url(), "user", pg.user(), "password", "${env:SIGNALBOX_PG_PASSWORD}",
                "events.table", "comp_ev" + tableNo, "metrics.table", "comp_me" + tableNo, "connect.timeout.seconds", 5);
        m.putAll(Fixtures.props(more));
        m.put("service.pid", "io.signalbox.backend.postgres~db");
        m.put("service.factoryPid", PostgresBackendComponent.FACTORY_PID);
        m.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.postgres-db.cfg");
        return m;
    }

    private PostgresBackend activate(Map<String, Object> p) {
        component = new PostgresBackendComponent(config(p), p, context(registered),
                n -> n.equals("SIGNALBOX_PG_PASSWORD") ? SECRET : null);
        return (PostgresBackend) registered.get(0).service();
    }

    private void modify(Map<String, Object> p) {
        component.modified(config(p), p);
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
        activate(p);
        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.classes()).containsExactly(Backend.class.getName(), StatsSource.class.getName());
            assertThat(r.properties()).containsEntry(Backend.NAME, "db").containsEntry(Backend.KIND, "postgres")
                    .containsEntry("service.pid", "io.signalbox.backend.postgres~db")
                    .doesNotContainKeys("password", "url", "user");
            assertThat(r.properties().values()).noneMatch(v -> String.valueOf(v).contains(SECRET));
        });
        Backend b = (Backend) registered.get(0).service();
        b.write(batch(3));
        assertThat(count((String) p.get("events.table"))).isEqualTo(3);
        assertThat(MetricSamples.of((StatsSource) b).value("signalbox_backend_postgres_messages_total", "backend", "db"))
                .isEqualTo(3);
    }

    @Test
    void anExplicitNameWinsOverTheFileName() {
        activate(props("name", "warehouse"));
        assertThat(registered).singleElement().satisfies(r -> assertThat(r.properties()).containsEntry(Backend.NAME, "warehouse"));
    }

    @Test
    void anInvalidFirstConfigurationIsRejectedAndRegistersNothing() {
        assertThatThrownBy(() -> activate(props("pool.siz", 3))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("did you mean 'pool.size'");
        assertThat(registered).isEmpty();
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForce() throws Exception {
        Map<String, Object> p = props();
        PostgresBackend before = activate(p);
        modify(props("pool.size", 0));
        assertThat(before.settings().eventsTable()).isEqualTo(p.get("events.table"));
        before.write(batch(4));
        assertThat(count((String) p.get("events.table"))).isEqualTo(4);
        assertThat(registered).singleElement().satisfies(r -> assertThat(r.service()).isSameAs(before));
    }

    @Test
    void aValidModificationAppliesFromTheNextBatchWithoutReregistering() throws Exception {
        Map<String, Object> p = props();
        PostgresBackend backend = activate(p);
        backend.write(batch(2));
        Map<String, Object> changed = props();
        modify(changed);
        backend.write(batch(5));
        assertThat(count((String) p.get("events.table"))).isEqualTo(2);
        assertThat(count((String) changed.get("events.table"))).isEqualTo(5);
        assertThat(registered).singleElement().satisfies(r -> assertThat(r.service()).isSameAs(backend));
    }

    @Test
    void aRenameRegistersAnewAndDeactivationUnregisters() {
        PostgresBackend old = activate(props());
        modify(props("name", "db2"));
        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.service()).isNotSameAs(old);
            assertThat(r.properties()).containsEntry(Backend.NAME, "db2");
        });
        component.deactivate();
        component = null;
        assertThat(registered).isEmpty();
    }
}
