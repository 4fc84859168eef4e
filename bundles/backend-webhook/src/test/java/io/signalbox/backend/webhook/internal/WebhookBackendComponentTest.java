package io.signalbox.backend.webhook.internal;

import static io.signalbox.backend.webhook.internal.Fixtures.batch;
import static io.signalbox.backend.webhook.internal.Fixtures.config;
import static io.signalbox.backend.webhook.internal.Fixtures.context;
import static io.signalbox.backend.webhook.internal.Fixtures.fileConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.StatsSource;

class WebhookBackendComponentTest {
    private final List<Fixtures.Registered> registered = new ArrayList<>();
    @RegisterExtension
    final TestServer server = new TestServer();
    private WebhookBackendComponent component;

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
    }

    private WebhookBackend activate(Map<String, Object> p) {
        component = new WebhookBackendComponent(config(p), p, context(registered));
        return (WebhookBackend) registered.get(0).service();
    }

    private void modify(Map<String, Object> p) {
        component.modified(config(p), p);
    }

    @Test
    void validConfigRegistersBackendAndStatsWithNameAndKindButNoSecrets() throws Exception {
        activate(fileConfig("url", server.url("/secret"), "headers", "Authorization: Bearer t0ken"));

        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.classes()).containsExactly(Backend.class.getName(), StatsSource.class.getName());
            assertThat(r.properties()).containsEntry(Backend.NAME, "alerts").containsEntry(Backend.KIND, "webhook")
                    .containsEntry("service.pid", "io.signalbox.backend.webhook~alerts").doesNotContainKeys("url", "headers");
        });
        ((Backend) registered.get(0).service()).write(batch(1));
        assertThat(server.next().header("Authorization")).isEqualTo("Bearer t0ken");
    }

    @Test
    void invalidFirstConfigIsRejectedAndRegistersNothing() {
        Map<String, Object> p = fileConfig("url", server.url("/x"), "gzipp", "true");
        assertThatThrownBy(() -> activate(p)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("unknown key 'gzipp'");
        assertThat(registered).isEmpty();
    }

    @Test
    void invalidModificationKeepsThePreviousConfigurationInForce() throws Exception {
        WebhookBackend backend = activate(fileConfig("url", server.url("/old"), "headers", "X-Version: 1"));
        long rejections = ConfigCheck.rejectionCount();

        modify(fileConfig("url", server.url("/new"), "headers", "X-Version 2"));
        backend.write(batch(1));

        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/old");
        assertThat(r.header("X-Version")).isEqualTo("1");
        assertThat(ConfigCheck.rejectionCount()).as("counted for /health").isGreaterThan(rejections);
        assertThat(registered).singleElement().satisfies(reg -> assertThat(reg.service()).isSameAs(backend));
    }

    @Test
    void validModificationAppliesToTheNextRequestWithoutReRegistering() throws Exception {
        WebhookBackend backend = activate(fileConfig("url", server.url("/old")));

        modify(fileConfig("url", server.url("/new"), "gzip", "true", "connect.timeout.ms", "1000"));
        backend.write(batch(3));

        TestServer.Request r = server.next();
        assertThat(r.path()).isEqualTo("/new");
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(registered).singleElement().satisfies(reg -> assertThat(reg.service()).isSameAs(backend));
    }

    @Test
    void newNameRegistersTheBackendAnewUnderThatName() {
        WebhookBackend old = activate(fileConfig("url", server.url("/x")));
        modify(fileConfig("url", server.url("/x"), "name", "pager"));

        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.service()).isNotSameAs(old);
            assertThat(r.properties()).containsEntry(Backend.NAME, "pager");
        });
        assertThatThrownBy(() -> old.write(batch(1))).as("the old one is closed").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void deactivateUnregistersAndClosesTheBackend() {
        WebhookBackend backend = activate(fileConfig("url", server.url("/x")));
        component.deactivate();
        component = null;
        assertThat(registered).isEmpty();
        assertThatThrownBy(() -> backend.write(batch(1))).isInstanceOf(IllegalStateException.class);
    }
}
