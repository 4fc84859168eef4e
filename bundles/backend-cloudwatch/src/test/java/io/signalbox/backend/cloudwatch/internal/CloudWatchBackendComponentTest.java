package io.signalbox.backend.cloudwatch.internal;

import static io.signalbox.backend.cloudwatch.internal.Fixtures.config;
import static io.signalbox.backend.cloudwatch.internal.Fixtures.context;
import static io.signalbox.backend.cloudwatch.internal.Fixtures.endpointProps;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.ConfigCheck;

class CloudWatchBackendComponentTest {
    private final List<Fixtures.Registered> registered = new ArrayList<>();
    @RegisterExtension
    final LogsEndpoint endpoint = new LogsEndpoint();
    private CloudWatchBackendComponent component;

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
    }

    private CloudWatchBackend activate(Map<String, Object> p) {
        component = new CloudWatchBackendComponent(config(p), p, context(registered));
        return (CloudWatchBackend) registered.get(0).service();
    }

    private void modify(Map<String, Object> p) {
        component.modified(config(p), p);
    }

    private static Batch oneMessage() {
        return new Batch("svc", List.of(Fixtures.message(System.currentTimeMillis(), 0)));
    }

    @Test
    void aValidConfigurationRegistersTheBackendWithNameAndKindButNoSecrets() throws Exception {
        activate(endpointProps(endpoint, "felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.cloudwatch-cw1.cfg"));

        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.properties()).containsEntry(Backend.NAME, "cw1").containsEntry(Backend.KIND, "cloudwatch");
            assertThat(r.properties().values().toString()).doesNotContain("s3cr3t-never-logged").doesNotContain("AKIDTEST");
        });
        ((Backend) registered.get(0).service()).write(oneMessage());
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
    }

    @Test
    void anInvalidFirstConfigurationIsRejectedAndRegistersNothing() {
        Map<String, Object> p = endpointProps(endpoint, "name", "cw", "max.events.per.call", 20_000);
        assertThatThrownBy(() -> activate(p)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'max.events.per.call' must be 1..10000, is 20000");
        assertThat(registered).isEmpty();
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForce() throws Exception {
        CloudWatchBackend backend = activate(endpointProps(endpoint, "name", "cw"));
        modify(endpointProps(endpoint, "name", "cw", "log.group.template", "{nope}"));
        assertThat(backend.settings().groupTemplate().text()).isEqualTo("signalbox");
        backend.write(oneMessage());
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
    }

    @Test
    void aValidModificationAppliesToTheNextBatchWithoutReregistering() throws Exception {
        CloudWatchBackend backend = activate(endpointProps(endpoint, "name", "cw"));
        modify(endpointProps(endpoint, "name", "cw", "log.group.template", "other"));
        backend.write(oneMessage());
        assertThat(endpoint.events("other", "svc")).hasSize(1);
        assertThat(registered).singleElement().satisfies(r -> assertThat(r.service()).isSameAs(backend));
    }

    @Test
    void aNewNameRegistersTheBackendAnew() {
        CloudWatchBackend old = activate(endpointProps(endpoint, "name", "cw"));
        modify(endpointProps(endpoint, "name", "logs"));
        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.service()).isNotSameAs(old);
            assertThat(r.properties()).containsEntry(Backend.NAME, "logs");
        });
        assertThatThrownBy(() -> old.write(oneMessage())).as("the old one is closed").isInstanceOf(IllegalStateException.class);
    }
}
