package io.signalbox.backend.file.internal;

import static io.signalbox.backend.file.internal.TestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Backend;

class FileBackendComponentTest {
    @TempDir
    Path dir;

    @Test
    void instanceNameIsExplicitNameElsePidElseFileName() {
        assertThat(FileBackendComponent.instanceName(config(dir, "name", "audit"),
                Map.of("service.pid", "io.signalbox.backend.file~other"))).isEqualTo("audit");
        assertThat(FileBackendComponent.instanceName(config(dir), Map.of("service.pid", "io.signalbox.backend.file~audit")))
                .isEqualTo("audit");
        assertThat(FileBackendComponent.instanceName(config(dir), Map.of("service.pid", "io.signalbox.backend.file.1234",
                "felix.fileinstall.filename", "file:/opt/signalbox/etc/io.signalbox.backend.file-files.cfg")))
                .isEqualTo("files");
    }

    @Test
    void servicePropertiesCarryNameAndKindButNoPrivateKeys() {
        Map<String, Object> props = FileBackendComponent.serviceProperties(
                Map.of("path", "data/x", ".secret", "s", "service.pid", "io.signalbox.backend.file~x"), "x");
        assertThat(props).containsEntry(Backend.NAME, "x").containsEntry(Backend.KIND, "file")
                .containsEntry("path", "data/x").containsEntry("service.pid", "io.signalbox.backend.file~x")
                .doesNotContainKey(".secret");
    }
}
