package io.signalbox.backend.s3.internal;

import static io.signalbox.backend.s3.internal.Fixtures.batch;
import static io.signalbox.backend.s3.internal.Fixtures.config;
import static io.signalbox.backend.s3.internal.Fixtures.context;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Backend;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.StatsSource;

class S3BackendComponentTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    private final List<Fixtures.Registered> registered = new ArrayList<>();
    private S3BackendComponent component;
    private String prefix = "component" + System.nanoTime() + "/";

    @TempDir
    Path staging;

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
    }

    /** Properties as fileinstall delivers them for etc/io.signalbox.backend.s3-archive.cfg. */
    private Map<String, Object> props(Object... more) {
        Map<String, Object> m = server.config(more);
        m.putIfAbsent("staging.dir", staging.toString());
        m.putIfAbsent("prefix", prefix);
        m.put("service.pid", "io.signalbox.backend.s3~archive");
        m.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.s3-archive.cfg");
        return m;
    }

    private S3Backend activate(Map<String, Object> p) {
        component = new S3BackendComponent(config(p), p, context(registered));
        return (S3Backend) registered.get(0).service();
    }

    private void modify(Map<String, Object> p) {
        component.modified(config(p), p);
    }

    @Test
    void registersBackendAndStatsWithNameAndKindButNoSecrets() {
        activate(props());
        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.classes()).containsExactly(Backend.class.getName(), StatsSource.class.getName());
            assertThat(r.properties()).containsEntry(Backend.NAME, "archive").containsEntry(Backend.KIND, "s3")
                    .doesNotContainKeys("bucket", "access.key.id", "secret.access.key");
            assertThat(r.properties().values()).noneMatch(v -> String.valueOf(v).contains(S3ProxyServer.SECRET_KEY));
        });
    }

    @Test
    void invalidFirstConfigurationIsRejectedAndRegistersNothing() {
        assertThatThrownBy(() -> activate(props("part.size.mb", "1"))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'part.size.mb' must be 5..2047, is 1");
        assertThat(registered).isEmpty();
    }

    @Test
    void aNameThatCannotNameTheStagingDirectoryIsRejected() {
        assertThatThrownBy(() -> activate(props("name", "../up"))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("backend name \"../up\" may only contain");
        assertThat(registered).isEmpty();
    }

    @Test
    void invalidModificationKeepsTheBackendInForce() throws Exception {
        S3Backend before = activate(props());
        modify(props("bukket", "x"));
        before.write(batch("svc", 0, 3));
        assertThat(registered).singleElement().satisfies(r -> assertThat(r.service()).isSameAs(before));
    }

    @Test
    void validModificationUploadsWhatWasStagedAndGoesOnWithTheNewSettings() throws Exception {
        S3Backend backend = activate(props());
        backend.write(batch("svc", 0, 3));
        modify(props("gzip", "false"));
        assertThat(backend.settings().gzip()).isFalse();
        assertThat(registered).singleElement().satisfies(r -> assertThat(r.service()).isSameAs(backend));
        assertThat(server.keys()).as("uploaded with the old settings").anySatisfy(k -> assertThat(k).startsWith(prefix)
                .endsWith(".jsonl.gz"));

        backend.write(batch("svc", 3, 2));
        backend.flush();
        Fixtures.await(Duration.ofSeconds(30), "the new object uploaded", () -> backend.pendingObjects() == 0);
        assertThat(server.keys()).as("the new settings apply").anySatisfy(k -> assertThat(k).startsWith(prefix)
                .endsWith(".jsonl"));
    }

    @Test
    void aNewNameRegistersTheBackendAnew() {
        S3Backend old = activate(props());
        modify(props("name", "archive2"));
        assertThat(registered).singleElement().satisfies(r -> {
            assertThat(r.service()).isNotSameAs(old);
            assertThat(r.properties()).containsEntry(Backend.NAME, "archive2");
        });
        assertThatThrownBy(() -> old.write(batch("svc", 0, 1))).isInstanceOf(IllegalStateException.class);
    }
}
