package io.signalbox.backend.s3.internal;

import static io.signalbox.backend.s3.internal.Fixtures.batch;
import static io.signalbox.backend.s3.internal.Fixtures.config;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import io.signalbox.api.Backend;
import io.signalbox.api.StatsSource;

class S3BackendComponentTest {
    private static S3ProxyServer server;

    static final class Registration {
        String[] classes;
        Object service;
        Map<String, Object> properties;
    }

    private final List<Registration> registrations = new ArrayList<>();
    private S3BackendComponent component;

    @TempDir
    Path staging;

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3ProxyServer();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
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
                    Map<String, Object> m = new HashMap<>();
                    Dictionary<?, ?> d = (Dictionary<?, ?>) args[2];
                    for (Object k : Collections.list(d.keys())) {
                        m.put((String) k, d.get(k));
                    }
                    r.properties = m;
                    registrations.add(r);
                    return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ServiceRegistration.class},
                            (p, mm, a) -> {
                                if (mm.getName().equals("unregister")) {
                                    r.properties = null;
                                    return null;
                                }
                                throw new UnsupportedOperationException(mm.getName());
                            });
                });
    }

    private Map<String, Object> props(Object... more) {
        Map<String, Object> m = server.config(more);
        m.put("staging.dir", staging.toString());
        m.put("prefix", "component" + System.nanoTime() + "/");
        m.put("service.pid", "io.signalbox.backend.s3~archive");
        m.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.s3-archive.cfg");
        return m;
    }

    @Test
    void registersBackendAndStatsWithNameAndKindButNoSecrets() {
        Map<String, Object> p = props();
        component = new S3BackendComponent(config(p), p, context());
        assertThat(registrations).singleElement().satisfies(r -> {
            assertThat(r.classes).containsExactly(Backend.class.getName(), StatsSource.class.getName());
            assertThat(r.properties).containsEntry(Backend.NAME, "archive").containsEntry(Backend.KIND, "s3");
            assertThat(r.properties.values()).noneMatch(v -> String.valueOf(v).contains(S3ProxyServer.SECRET_KEY));
            assertThat(r.properties).doesNotContainKeys("bucket", "access.key.id", "secret.access.key");
        });
    }

    @Test
    void invalidFirstConfigurationRegistersNothingUntilTheFileIsCorrected() {
        Map<String, Object> bad = props("part.size.mb", "1");
        component = new S3BackendComponent(config(bad), bad, context());
        assertThat(registrations).isEmpty();
        assertThat(component.backend()).isNull();

        Map<String, Object> good = props();
        component.modified(config(good), good);
        assertThat(registrations).singleElement().satisfies(r -> assertThat(r.properties).containsEntry(Backend.NAME, "archive"));
    }

    @Test
    void invalidModificationKeepsTheBackendInForce() throws Exception {
        Map<String, Object> p = props();
        component = new S3BackendComponent(config(p), p, context());
        S3Backend before = component.backend();
        Map<String, Object> bad = props("bukket", "x");
        component.modified(config(bad), bad);
        assertThat(component.backend()).isSameAs(before);
        before.write(batch("svc", 0, 3));
    }

    @Test
    void validModificationReplacesTheBackendAndUploadsWhatTheOldOneHeld() throws Exception {
        Map<String, Object> p = props();
        component = new S3BackendComponent(config(p), p, context());
        S3Backend before = component.backend();
        before.write(batch("svc", 0, 3));
        Map<String, Object> changed = props("gzip", "false");
        changed.put("prefix", p.get("prefix"));
        component.modified(config(changed), changed);
        assertThat(component.backend()).isNotSameAs(before);
        assertThat(component.backend().settings().gzip()).isFalse();
        assertThat(registrations).hasSize(2);
        assertThat(registrations.get(0).properties).isNull();
        assertThat(server.keys()).anySatisfy(k -> assertThat(k).startsWith((String) p.get("prefix")));
    }
}
