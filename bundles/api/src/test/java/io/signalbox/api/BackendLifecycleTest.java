package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.slf4j.LoggerFactory;

class BackendLifecycleTest {

    /** A registration as the framework keeps it: the service, its properties, whether it is still registered. */
    static final class Registered {
        final Object service;
        Dictionary<String, ?> properties;
        boolean unregistered;

        Registered(Object service, Dictionary<String, ?> properties) {
            this.service = service;
            this.properties = properties;
        }
    }

    final List<Registered> registry = new ArrayList<>();

    @SuppressWarnings("unchecked")
    BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("registerService")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    Registered r = new Registered(args[1], (Dictionary<String, ?>) args[2]);
                    registry.add(r);
                    return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ServiceRegistration.class},
                            (p, m, a) -> {
                                switch (m.getName()) {
                                    case "unregister" -> r.unregistered = true;
                                    case "setProperties" -> r.properties = (Dictionary<String, ?>) a[0];
                                    default -> throw new UnsupportedOperationException(m.getName());
                                }
                                return null;
                            });
                });
    }

    /** The smallest backend: remembers its settings and whether it was closed. */
    static final class Recording implements BackendLifecycle.Instance<String> {
        final String name;
        final List<String> settings = new ArrayList<>();
        boolean closed;

        Recording(String name, String settings) {
            this.name = name;
            this.settings.add(settings);
        }

        @Override
        public void write(Batch batch) {
        }

        @Override
        public void collect(MetricsSink sink) {
            sink.gauge("test_settings", settings.size(), "backend", name);
        }

        @Override
        public void update(String s) {
            settings.add(s);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private BackendLifecycle<String, Recording> lifecycle() {
        return new BackendLifecycle<>(context(), "io.signalbox.backend.test", "test",
                LoggerFactory.getLogger(BackendLifecycleTest.class), Recording::new, s -> "settings=" + s);
    }

    private static Map<String, Object> file(String name) {
        return FakeFramework.fileConfig("io.signalbox.backend.test", name, "password", "secret");
    }

    /** A lifecycle activated from {@code etc/io.signalbox.backend.test-audit.cfg} with settings "a". */
    private BackendLifecycle<String, Recording> activeAudit() {
        BackendLifecycle<String, Recording> l = lifecycle();
        l.activate(file("audit"), "", () -> "a");
        return l;
    }

    @Test
    void registersUnderTheFileNameWithFrameworkPropertiesOnly() {
        BackendLifecycle<String, Recording> l = activeAudit();
        assertThat(registry).hasSize(1);
        Registered r = registry.get(0);
        assertThat(r.service).isSameAs(l.backend());
        assertThat(r.properties.get(Backend.NAME)).isEqualTo("audit");
        assertThat(r.properties.get(Backend.KIND)).isEqualTo("test");
        assertThat(r.properties.get("password")).isNull();
        assertThat(MetricSamples.of(l.backend()).value("test_settings", "backend", "audit")).isEqualTo(1);
    }

    @Test
    void anInvalidFirstConfigurationIsCountedAndThrownAndRegistersNothing() {
        long before = ConfigCheck.rejectionCount();
        BackendLifecycle<String, Recording> l = lifecycle();
        assertThatThrownBy(() -> l.activate(file("audit"), "", () -> {
            throw new ConfigCheck.Rejected("'pool.size' must be 1..64, is 0");
        })).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("configuration io.signalbox.backend.test~audit")
                .hasMessageContaining("rejected: 'pool.size' must be 1..64, is 0");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(registry).isEmpty();
        assertThat(l.backend()).isNull();
    }

    @Test
    void aConfigurationWithoutAnyNameIsRejected() {
        BackendLifecycle<String, Recording> l = lifecycle();
        assertThatThrownBy(() -> l.activate(Map.of("service.pid", "io.signalbox.backend.test.1234"), " ", () -> "a"))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("no backend name: set 'name' or use a file etc/io.signalbox.backend.test-<name>.cfg");
    }

    @Test
    void aValidModificationUpdatesInPlaceAndAnInvalidOneKeepsTheConfigurationInForce() {
        BackendLifecycle<String, Recording> l = activeAudit();
        Recording first = l.backend();
        assertThat(l.modify(file("audit"), "", () -> "b")).isTrue();
        assertThat(l.backend()).isSameAs(first);
        assertThat(first.settings).containsExactly("a", "b");
        long before = ConfigCheck.rejectionCount();
        assertThat(l.modify(file("audit"), "", () -> {
            throw new IllegalArgumentException("'url' is required, e.g. url=https://x");
        })).isFalse();
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(first.settings).containsExactly("a", "b");
        assertThat(registry).hasSize(1);
        assertThat(registry.get(0).unregistered).isFalse();
    }

    @Test
    void aNewNameRegistersAnewAndClosesTheOldBackend() {
        BackendLifecycle<String, Recording> l = activeAudit();
        Recording first = l.backend();
        assertThat(l.modify(file("audit"), "\"archive\"", () -> "a")).isTrue();
        assertThat(first.closed).isTrue();
        assertThat(registry).hasSize(2);
        assertThat(registry.get(0).unregistered).isTrue();
        assertThat(registry.get(1).properties.get(Backend.NAME)).isEqualTo("archive");
        assertThat(l.name()).isEqualTo("archive");
        l.deactivate();
        assertThat(registry.get(1).unregistered).isTrue();
        assertThat(((Recording) registry.get(1).service).closed).isTrue();
        assertThat(l.backend()).isNull();
    }
}
