package io.signalbox.backend.webhook.internal;

import static io.signalbox.api.FakeFramework.fileConfig;
import static io.signalbox.backend.webhook.internal.Fixtures.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.ComponentHarness;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.FakeFramework.Registered;
import io.signalbox.api.StatsSource;

class WebhookBackendComponentTest {
    @RegisterExtension
    final TestServer server = new TestServer();
    @RegisterExtension
    final ComponentHarness<WebhookBackend> component = ComponentHarness.of(WebhookBackend.class, WebhookBackendComponent::new);

    /** Properties as fileinstall delivers them for {@code etc/io.signalbox.backend.webhook-alerts.cfg}. */
    private static Map<String, Object> alerts(Object... keyValues) {
        return fileConfig(WebhookConfig.PID, "alerts", keyValues);
    }

    @Test
    void validConfigRegistersBackendAndStatsWithNameAndKindButNoSecrets() throws Exception {
        component.activate(alerts("url", server.url("/secret"), "headers", "Authorization: Bearer t0ken"));

        Registered r = component.registered("alerts");
        assertThat(r.classes()).containsExactly(Backend.class.getName(), StatsSource.class.getName());
        assertThat(r.properties()).containsEntry(Backend.KIND, "webhook")
                .containsEntry("service.pid", "io.signalbox.backend.webhook~alerts").doesNotContainKeys("url", "headers");
        ((Backend) r.service()).write(batch(1));
        assertThat(server.next().header("Authorization")).isEqualTo("Bearer t0ken");
    }

    @Test
    void invalidFirstConfigIsRejectedAndRegistersNothing() {
        component.assertRejected(alerts("url", server.url("/x"), "gzipp", "true"), "unknown key 'gzipp'");
    }

    @Test
    void invalidModificationKeepsThePreviousConfigurationInForce() throws Exception {
        WebhookBackend backend = component.activate(alerts("url", server.url("/old"), "headers", "X-Version: 1"));
        long rejections = ConfigCheck.rejectionCount();

        component.modify(alerts("url", server.url("/new"), "headers", "X-Version 2"));
        backend.write(batch(1));

        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/old");
        assertThat(r.header("X-Version")).isEqualTo("1");
        assertThat(ConfigCheck.rejectionCount()).as("counted for /health").isGreaterThan(rejections);
        assertThat(component.registered("alerts").service()).isSameAs(backend);
    }

    @Test
    void validModificationAppliesToTheNextRequestWithoutReRegistering() throws Exception {
        WebhookBackend backend = component.activate(alerts("url", server.url("/old")));

        component.modify(alerts("url", server.url("/new"), "gzip", "true", "connect.timeout.ms", "1000"));
        backend.write(batch(3));

        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/new");
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(component.registered("alerts").service()).isSameAs(backend);
    }

    @Test
    void newNameRegistersTheBackendAnewUnderThatName() {
        WebhookBackend old = component.activate(alerts("url", server.url("/x")));
        component.modify(alerts("url", server.url("/x"), "name", "pager"));

        assertThat(component.registered("pager").service()).isNotSameAs(old);
        assertThatThrownBy(() -> old.write(batch(1))).as("the old one is closed").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void deactivateUnregistersAndClosesTheBackend() {
        WebhookBackend backend = component.activate(alerts("url", server.url("/x")));
        component.deactivate();
        assertThat(component.registered()).isEmpty();
        assertThatThrownBy(() -> backend.write(batch(1))).isInstanceOf(IllegalStateException.class);
    }
}
