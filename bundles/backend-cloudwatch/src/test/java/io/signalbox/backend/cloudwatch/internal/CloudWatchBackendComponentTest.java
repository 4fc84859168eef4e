package io.signalbox.backend.cloudwatch.internal;

import static io.signalbox.backend.cloudwatch.internal.Fixtures.endpointProps;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.ComponentHarness;
import io.signalbox.api.FakeFramework.Registered;

class CloudWatchBackendComponentTest {
    @RegisterExtension
    final LogsEndpoint endpoint = new LogsEndpoint();
    @RegisterExtension
    final ComponentHarness<CloudWatchBackend> component = ComponentHarness.of(CloudWatchBackend.class, CloudWatchBackendComponent::new);

    private static Batch oneMessage() {
        return new Batch("svc", List.of(Fixtures.message(System.currentTimeMillis(), 0)));
    }

    @Test
    void aValidConfigurationRegistersTheBackendWithNameAndKindButNoSecrets() throws Exception {
        component.activate(endpointProps(endpoint, "felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.cloudwatch-cw1.cfg"));

        Registered r = component.registered("cw1");
        assertThat(r.properties()).containsEntry(Backend.KIND, "cloudwatch");
        assertThat(r.properties().values().toString()).doesNotContain("s3cr3t-never-logged").doesNotContain("AKIDTEST");
        ((Backend) r.service()).write(oneMessage());
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
    }

    @Test
    void anInvalidFirstConfigurationIsRejectedAndRegistersNothing() {
        component.assertRejected(endpointProps(endpoint, "name", "cw", "max.events.per.call", 20_000),
                "'max.events.per.call' must be 1..10000, is 20000");
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForce() throws Exception {
        CloudWatchBackend backend = component.activate(endpointProps(endpoint, "name", "cw"));
        component.modify(endpointProps(endpoint, "name", "cw", "log.group.template", "{nope}"));
        assertThat(backend.settings().groupTemplate().text()).isEqualTo("signalbox");
        backend.write(oneMessage());
        assertThat(endpoint.events("signalbox", "svc")).hasSize(1);
    }

    @Test
    void aValidModificationAppliesToTheNextBatchWithoutReregistering() throws Exception {
        CloudWatchBackend backend = component.activate(endpointProps(endpoint, "name", "cw"));
        component.modify(endpointProps(endpoint, "name", "cw", "log.group.template", "other"));
        backend.write(oneMessage());
        assertThat(endpoint.events("other", "svc")).hasSize(1);
        assertThat(component.registered("cw").service()).isSameAs(backend);
    }

    @Test
    void aNewNameRegistersTheBackendAnew() {
        CloudWatchBackend old = component.activate(endpointProps(endpoint, "name", "cw"));
        component.modify(endpointProps(endpoint, "name", "logs"));
        assertThat(component.registered("logs").service()).isNotSameAs(old);
        assertThatThrownBy(() -> old.write(oneMessage())).as("the old one is closed").isInstanceOf(IllegalStateException.class);
    }
}
