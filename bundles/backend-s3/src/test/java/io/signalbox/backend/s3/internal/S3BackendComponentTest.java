package io.signalbox.backend.s3.internal;

import static io.signalbox.api.FakeFramework.fileConfig;
import static io.signalbox.backend.s3.internal.Fixtures.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Backend;
import io.signalbox.api.ComponentHarness;
import io.signalbox.api.FakeFramework.Registered;
import io.signalbox.api.StatsSource;

class S3BackendComponentTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @RegisterExtension
    final ComponentHarness<S3Backend> component = ComponentHarness.of(S3Backend.class, S3BackendComponent::new);
    private String prefix = "component" + System.nanoTime() + "/";

    @TempDir
    Path staging;

    /** Properties as fileinstall delivers them for etc/io.signalbox.backend.s3-archive.cfg. */
    private Map<String, Object> props(Object... more) {
        Map<String, Object> m = server.config(more);
        m.putIfAbsent("staging.dir", staging.toString());
        m.putIfAbsent("prefix", prefix);
        m.putAll(fileConfig(S3Config.PID, "archive"));
        return m;
    }

    @Test
    void registersBackendAndStatsWithNameAndKindButNoSecrets() {
        component.activate(props());
        Registered r = component.registered("archive");
        assertThat(r.classes()).containsExactly(Backend.class.getName(), StatsSource.class.getName());
        assertThat(r.properties()).containsEntry(Backend.KIND, "s3")
                .doesNotContainKeys("bucket", "access.key.id", "secret.access.key");
        assertThat(r.properties().values()).noneMatch(v -> String.valueOf(v).contains(S3ProxyServer.SECRET_KEY));
    }

    @Test
    void invalidFirstConfigurationIsRejectedAndRegistersNothing() {
        component.assertRejected(props("part.size.mb", "1"), "'part.size.mb' must be 5..2047, is 1");
    }

    @Test
    void aNameThatCannotNameTheStagingDirectoryIsRejected() {
        component.assertRejected(props("name", "../up"), "backend name \"../up\" may only contain");
    }

    @Test
    void invalidModificationKeepsTheBackendInForce() throws Exception {
        S3Backend before = component.activate(props());
        component.modify(props("bukket", "x"));
        before.write(batch("svc", 0, 3));
        assertThat(component.registered("archive").service()).isSameAs(before);
    }

    @Test
    void validModificationUploadsWhatWasStagedAndGoesOnWithTheNewSettings() throws Exception {
        S3Backend backend = component.activate(props());
        backend.write(batch("svc", 0, 3));
        component.modify(props("gzip", "false"));
        assertThat(backend.settings().gzip()).isFalse();
        assertThat(component.registered("archive").service()).isSameAs(backend);
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
        S3Backend old = component.activate(props());
        component.modify(props("name", "archive2"));
        assertThat(component.registered("archive2").service()).isNotSameAs(old);
        assertThatThrownBy(() -> old.write(batch("svc", 0, 1))).isInstanceOf(IllegalStateException.class);
    }
}
