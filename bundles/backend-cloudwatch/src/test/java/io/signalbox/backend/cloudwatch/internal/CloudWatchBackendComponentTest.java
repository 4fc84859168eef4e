package io.signalbox.backend.cloudwatch.internal;

import static io.signalbox.backend.cloudwatch.internal.Fixtures.config;
import static io.signalbox.backend.cloudwatch.internal.Fixtures.endpointProps;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
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
import io.signalbox.api.Batch;

class CloudWatchBackendComponentTest {
    private final List<Map<String, Object>> registered = new ArrayList<>();
    private final List<Object> services = new ArrayList<>();
    private LogsEndpoint endpoint;
    private CloudWatchBackendComponent component;

    @BeforeEach
    void start() throws IOException {
        endpoint = new LogsEndpoint();
    }

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
        endpoint.close();
    }

    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("registerService")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    Map<String, Object> props = new HashMap<>();
                    Dictionary<?, ?> d = (Dictionary<?, ?>) args[2];
                    for (Object k : Collections.list(d.keys())) {
                        props.put((String) k, d.get(k));
                    }
                    registered.add(props);
                    services.add(args[1]);
                    return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ServiceRegistration.class},
                            (p, m, a) -> null);
                });
    }

    @Test
    void aValidConfigurationRegistersTheBackendWithNameAndKindButNoSecrets() throws Exception {
        Map<String, Object> p = endpointProps(endpoint, "felix.fileinstall.filename",
                "file:/x/etc/io.signalbox.backend.cloudwatch-cw1.cfg");
        component = new CloudWatchBackendComponent(config(p), p, context());

        assertThat(registered).hasSize(1);
        assertThat(registered.get(0)).containsEntry(Backend.NAME, "cw1").containsEntry(Backend.KIND, "cloudwatch");
        assertThat(registered.get(0).values().toString()).doesNotContain("s3cr3t-never-logged").doesNotContain("AKIDTEST");
        ((Backend) services.get(0)).write(new Batch("svc", List.of(Fixtures.message(System.currentTimeMillis(), 0))));
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
    }

    @Test
    void anInvalidConfigurationRegistersNothing() {
        Map<String, Object> p = endpointProps(endpoint, "name", "cw", "max.events.per.call", 20_000);
        component = new CloudWatchBackendComponent(config(p), p, context());

        assertThat(registered).isEmpty();
        assertThat(component.backend()).isNull();
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForceAndAValidOneAppliesToTheNextBatch() throws Exception {
        Map<String, Object> p = endpointProps(endpoint, "name", "cw");
        component = new CloudWatchBackendComponent(config(p), p, context());
        CloudWatchBackend backend = component.backend();

        Map<String, Object> bad = endpointProps(endpoint, "name", "cw", "log.group.template", "{nope}");
        assertThat(component.apply(config(bad), bad, true)).isFalse();
        assertThat(component.backend().settings().groupTemplate().text()).isEqualTo("signalbox");

        Map<String, Object> good = endpointProps(endpoint, "name", "cw", "log.group.template", "other");
        assertThat(component.apply(config(good), good, true)).isTrue();
        assertThat(component.backend()).isSameAs(backend);
        backend.write(new Batch("svc", List.of(Fixtures.message(System.currentTimeMillis(), 0))));
        assertThat(endpoint.events("other", "svc")).hasSize(1);
        assertThat(registered).hasSize(1);
    }
}
