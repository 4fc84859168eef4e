package io.signalbox.backend.postgres.internal;

import static io.signalbox.backend.postgres.internal.Fixtures.config;
import static io.signalbox.backend.postgres.internal.Fixtures.event;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.StatsSource;

/**
 * The DS component against a real PostgreSQL with a password: what it registers (and never
 * publishes), and how it treats invalid and valid configuration changes.
 */
class PostgresBackendComponentTest {
    private static final String SECRET = "c0mp0nent-Secret";
    private static PostgresCluster pg;
    private static int tableNo;

    /** One call of {@code registerService}; {@code properties} becomes null when unregistered. */
    static final class Registration {
        String[] classes;
        Object service;
        Map<String, Object> properties;
    }

    private final List<Registration> registrations = new ArrayList<>();
    private PostgresBackendComponent component;

    @BeforeAll
    static void startServer() throws Exception {
        pg = PostgresCluster.create(SECRET, false);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
    }

    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("registerService")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    Registration r = new Registration();
                    r.classes = (String[]) args[0];
                    r.service = args[1];
                    r.properties = toMap((Dictionary<?, ?>) args[2]);
                    registrations.add(r);
                    return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ServiceRegistration.class},
                            (p, m, a) -> {
                                switch (m.getName()) {
                                    case "unregister":
                                        r.properties = null;
                                        return null;
                                    case "setProperties":
                                        r.properties = toMap((Dictionary<?, ?>) a[0]);
                                        return null;
                                    default:
                                        throw new UnsupportedOperationException(m.getName());
                                }
                            });
                });
    }

    private static Map<String, Object> toMap(Dictionary<?, ?> d) {
        Map<String, Object> m = new HashMap<>();
        for (Object k : Collections.list(d.keys())) {
            m.put((String) k, d.get(k));
        }
        return m;
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

    private PostgresBackendComponent component(Map<String, Object> p) {
        return new PostgresBackendComponent(config(p), p, context(), n -> n.equals("SIGNALBOX_PG_PASSWORD") ? SECRET : null);
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
        component = component(p);
        assertThat(registrations).singleElement().satisfies(r -> {
            assertThat(r.classes).containsExactly(Backend.class.getName(), StatsSource.class.getName());
            assertThat(r.properties).containsEntry(Backend.NAME, "db").containsEntry(Backend.KIND, "postgres")
                    .containsEntry("service.pid", "io.signalbox.backend.postgres~db")
                    .doesNotContainKeys("password", "url", "user");
            assertThat(r.properties.values()).noneMatch(v -> String.valueOf(v).contains(SECRET));
        });
        Backend b = (Backend) registrations.get(0).service;
        b.write(batch(3));
        assertThat(count((String) p.get("events.table"))).isEqualTo(3);
        assertThat(((StatsSource) b).stats()).containsEntry("signalbox_backend_postgres_messages_total{backend=\"db\"}", 3L);
    }

    @Test
    void anExplicitNameWinsOverTheFileName() {
        Map<String, Object> p = props("name", "warehouse");
        component = component(p);
        assertThat(registrations).singleElement()
                .satisfies(r -> assertThat(r.properties).containsEntry(Backend.NAME, "warehouse"));
    }

    @Test
    void anInvalidFirstConfigurationRegistersNothingUntilTheFileIsCorrected() throws Exception {
        Map<String, Object> bad = props("pool.siz", 3);
        component = component(bad);
        assertThat(registrations).isEmpty();
        assertThat(component.backend()).isNull();

        Map<String, Object> good = props();
        component.modified(config(good), good);
        assertThat(registrations).singleElement().satisfies(r -> assertThat(r.properties).containsEntry(Backend.NAME, "db"));
        component.backend().write(batch(2));
        assertThat(count((String) good.get("events.table"))).isEqualTo(2);
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForce() throws Exception {
        Map<String, Object> p = props();
        component = component(p);
        PostgresBackend before = component.backend();
        Map<String, Object> bad = props("pool.size", 0);
        component.modified(config(bad), bad);
        assertThat(component.backend()).isSameAs(before);
        assertThat(before.settings().eventsTable()).isEqualTo(p.get("events.table"));
        before.write(batch(4));
        assertThat(count((String) p.get("events.table"))).isEqualTo(4);
        assertThat(registrations).singleElement().satisfies(r -> assertThat(r.properties).isNotNull());
    }

    @Test
    void aValidModificationAppliesFromTheNextBatchWithoutReregistering() throws Exception {
        Map<String, Object> p = props();
        component = component(p);
        PostgresBackend backend = component.backend();
        backend.write(batch(2));
        Map<String, Object> changed = props();
        component.modified(config(changed), changed);
        assertThat(component.backend()).isSameAs(backend);
        backend.write(batch(5));
        assertThat(count((String) p.get("events.table"))).isEqualTo(2);
        assertThat(count((String) changed.get("events.table"))).isEqualTo(5);
        assertThat(registrations).singleElement().satisfies(r -> assertThat(r.properties).isNotNull());
    }

    @Test
    void aRenameReplacesTheRegistrationAndDeactivationUnregisters() {
        Map<String, Object> p = props();
        component = component(p);
        Map<String, Object> renamed = props("name", "db2");
        component.modified(config(renamed), renamed);
        assertThat(registrations).hasSize(2);
        assertThat(registrations.get(0).properties).isNull();
        assertThat(registrations.get(1).properties).containsEntry(Backend.NAME, "db2");
        component.deactivate();
        component = null;
        assertThat(registrations.get(1).properties).isNull();
    }
}
