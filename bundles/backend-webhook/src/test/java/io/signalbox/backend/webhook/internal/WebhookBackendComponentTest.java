package io.signalbox.backend.webhook.internal;

import static io.signalbox.backend.webhook.internal.Fixtures.batch;
import static io.signalbox.backend.webhook.internal.Fixtures.config;
import static io.signalbox.backend.webhook.internal.Fixtures.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import io.signalbox.api.Backend;
import io.signalbox.api.StatsSource;

class WebhookBackendComponentTest {
    /** What the fake BundleContext registered; {@code properties} follow setProperties, {@code null} once unregistered. */
    static final class Registration {
        String[] classes;
        Object service;
        Map<String, Object> properties;
    }

    private final List<Registration> registrations = new ArrayList<>();
    private TestServer server;
    private WebhookBackendComponent component;

    @BeforeEach
    void start() throws IOException {
        server = new TestServer();
    }

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
        server.close();
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
                                    case "setProperties" -> r.properties = toMap((Dictionary<?, ?>) a[0]);
                                    case "unregister" -> {
                                        if (r.properties == null) {
                                            throw new IllegalStateException("already unregistered");
                                        }
                                        r.properties = null;
                                    }
                                    default -> throw new UnsupportedOperationException(m.getName());
                                }
                                return null;
                            });
                });
    }

    private static Map<String, Object> toMap(Dictionary<?, ?> d) {
        Map<String, Object> m = new HashMap<>();
        for (var keys = d.keys(); keys.hasMoreElements();) {
            Object k = keys.nextElement();
            m.put(k.toString(), d.get(k));
        }
        return m;
    }

    private Map<String, Object> fileConfig(Object... keyValues) {
        Map<String, Object> p = props(keyValues);
        p.put("service.pid", "io.signalbox.backend.webhook~alerts");
        p.put("service.factoryPid", WebhookBackendComponent.FACTORY_PID);
        p.put("felix.fileinstall.filename", "file:/opt/signalbox/etc/io.signalbox.backend.webhook-alerts.cfg");
        p.put("component.name", WebhookBackendComponent.FACTORY_PID);
        return p;
    }

    private WebhookBackendComponent activate(Map<String, Object> p) {
        component = new WebhookBackendComponent(config(p), p, context());
        return component;
    }

    @Test
    void validConfigRegistersBackendAndStatsWithNameAndKindButNoSecrets() throws Exception {
        activate(fileConfig("url", server.url("/secret"), "headers", "Authorization: Bearer t0ken"));

        assertThat(registrations).hasSize(1);
        Registration r = registrations.get(0);
        assertThat(r.classes).containsExactly(Backend.class.getName(), StatsSource.class.getName());
        assertThat(r.properties).containsEntry(Backend.NAME, "alerts").containsEntry(Backend.KIND, "webhook")
                .containsEntry("service.pid", "io.signalbox.backend.webhook~alerts")
                .doesNotContainKeys("url", "headers");
        ((Backend) r.service).write(batch(1));
        assertThat(server.next().header("Authorization")).isEqualTo("Bearer t0ken");
    }

    @Test
    void invalidConfigAtActivationRegistersNothing() {
        activate(fileConfig("url", server.url("/x"), "gzipp", "true"));
        assertThat(registrations).isEmpty();
        assertThat(component.backend()).isNull();
    }

    @Test
    void validModificationAfterAnInvalidActivationRegistersTheBackend() {
        activate(fileConfig("url", "not a url"));
        Map<String, Object> fixed = fileConfig("url", server.url("/x"));
        component.modified(config(fixed), fixed);
        assertThat(registrations).hasSize(1);
        assertThat(registrations.get(0).properties).containsEntry(Backend.NAME, "alerts");
    }

    @Test
    void invalidModificationKeepsThePreviousConfigurationInForce() throws Exception {
        activate(fileConfig("url", server.url("/old"), "headers", "X-Version: 1"));
        Backend backend = (Backend) registrations.get(0).service;

        Map<String, Object> bad = fileConfig("url", server.url("/new"), "headers", "X-Version 2");
        component.modified(config(bad), bad);
        backend.write(batch(1));

        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/old");
        assertThat(r.header("X-Version")).isEqualTo("1");
        assertThat(registrations).hasSize(1);
        assertThat(registrations.get(0).properties).isNotNull();
    }

    @Test
    void validModificationAppliesToTheNextRequestWithoutReRegistering() throws Exception {
        activate(fileConfig("url", server.url("/old")));
        Backend backend = (Backend) registrations.get(0).service;

        Map<String, Object> changed = fileConfig("url", server.url("/new"), "gzip", "true", "connect.timeout.ms", "1000");
        component.modified(config(changed), changed);
        backend.write(batch(3));

        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/new");
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(registrations).hasSize(1);
        assertThat(registrations.get(0).properties).containsEntry(Backend.NAME, "alerts");
    }

    @Test
    void newNameReRegistersTheBackendUnderThatName() {
        activate(fileConfig("url", server.url("/x")));
        Map<String, Object> renamed = fileConfig("url", server.url("/x"), "name", "pager");
        component.modified(config(renamed), renamed);

        assertThat(registrations).hasSize(2);
        assertThat(registrations.get(0).properties).as("old registration gone").isNull();
        assertThat(registrations.get(1).properties).containsEntry(Backend.NAME, "pager");
    }

    @Test
    void deactivateUnregistersAndClosesTheBackend() {
        activate(fileConfig("url", server.url("/x")));
        WebhookBackend backend = (WebhookBackend) registrations.get(0).service;
        component.deactivate();
        component = null;
        assertThat(registrations.get(0).properties).isNull();
        assertThatThrownBy(() -> backend.write(batch(1)))
                .isInstanceOf(IllegalStateException.class);
    }
}
