package io.signalbox.config.yaml.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlInstallerTest {
    private static final String TCP = "io.signalbox.transport.tcp";
    private static final String CORRELATION = "io.signalbox.correlation";
    private static final String FILES = "io.signalbox.backend.file~files";
    private static final String HOOKS = "io.signalbox.backend.webhook~hooks";
    private static final String RULE_FR = "io.signalbox.route~sidecar-config.file-receiver.0";
    private static final String RULE_Q = "io.signalbox.route~sidecar-config.queue-_.0";
    private static final String RULE_DEFAULT = "io.signalbox.route~sidecar-config.default.0";

    @TempDir
    Path etc;

    private FakeConfigurationAdmin cm;
    private YamlInstaller installer;
    private File yaml;

    @BeforeEach
    void setUp() {
        cm = new FakeConfigurationAdmin();
        installer = new YamlInstaller(cm, 1 << 20);
        yaml = etc.resolve("sidecar-config.yaml").toFile();
    }

    private void write(File f, String text) throws IOException {
        Files.writeString(f.toPath(), text);
    }

    @Test
    void installCreatesEveryConfigurationMarkedWithTheFile() throws Exception {
        write(yaml, YamlMappingTest.SEED);
        installer.install(yaml);

        assertThat(cm.pids()).containsExactlyInAnyOrder(TCP, CORRELATION, FILES, HOOKS, RULE_FR, RULE_Q, RULE_DEFAULT);
        String path = YamlInstaller.pathOf(yaml);
        assertThat(cm.properties(TCP)).containsEntry("port", 17000).containsEntry(YamlInstaller.MARKER, path);
        assertThat(cm.properties(FILES)).containsEntry("path", "data/files").containsEntry(YamlInstaller.MARKER, path);
        assertThat(cm.properties(RULE_Q)).containsEntry("source", "queue-*");
        assertThat((String[]) cm.properties(RULE_Q).get("backends")).containsExactly("hooks");
        assertThat(cm.listConfigurations("(service.factoryPid=io.signalbox.backend.file)")).hasSize(1);
    }

    @Test
    void updateCreatesChangesAndDeletesOnlyTheDifference() throws Exception {
        write(yaml, YamlMappingTest.SEED);
        installer.install(yaml);
        long tcpChanges = cm.changeCount(TCP);
        long filesChanges = cm.changeCount(FILES);
        long defaultChanges = cm.changeCount(RULE_DEFAULT);

        write(yaml, YamlMappingTest.SEED
                .replace("port: 17000", "port: 17100")                       // changed
                .replace("  hooks: {type: webhook, url: \"http://127.0.0.1:9000/ingest\"}\n", "") // gone
                .replace("  \"queue-*\":\n    - {backend: hooks}\n", "  billing:\n    - {backend: files}\n")); // new
        installer.update(yaml);

        assertThat(cm.pids()).containsExactlyInAnyOrder(TCP, CORRELATION, FILES, RULE_FR, RULE_DEFAULT,
                "io.signalbox.route~sidecar-config.billing.0");
        assertThat(cm.properties(TCP)).containsEntry("port", 17100);
        assertThat(cm.changeCount(TCP)).isEqualTo(tcpChanges + 1);
        assertThat(cm.changeCount(FILES)).as("unchanged backend not touched").isEqualTo(filesChanges);
        assertThat(cm.changeCount(RULE_DEFAULT)).as("unchanged route not touched").isEqualTo(defaultChanges);
    }

    @Test
    void removingAKeyUpdatesTheConfiguration() throws Exception {
        write(yaml, "tcp: {host: 127.0.0.1, port: 17000}\n");
        installer.install(yaml);
        write(yaml, "tcp: {port: 17000}\n");
        installer.update(yaml);
        assertThat(cm.properties(TCP)).doesNotContainKey("host").containsEntry("port", 17000);
    }

    @Test
    void uninstallDeletesExactlyTheConfigurationsOfThisFile() throws Exception {
        cm.putFromCfg("io.signalbox.backend.file~audit", Map.of("path", "data/audit"),
                etc.resolve("io.signalbox.backend.file-audit.cfg").toUri().toString());
        File other = etc.resolve("other.yml").toFile();
        write(other, "backends:\n  more: {type: file, path: data/more}\n");
        installer.install(other);
        write(yaml, YamlMappingTest.SEED);
        installer.install(yaml);

        yaml.delete();
        installer.uninstall(yaml);

        assertThat(cm.pids()).containsExactlyInAnyOrder("io.signalbox.backend.file~audit",
                "io.signalbox.backend.file~more");
    }

    @Test
    void invalidUpdateKeepsThePreviousConfigurations() throws Exception {
        write(yaml, YamlMappingTest.SEED);
        installer.install(yaml);
        Map<String, Object> tcpBefore = cm.properties(TCP);
        long changes = cm.changeCount(RULE_FR);

        write(yaml, YamlMappingTest.SEED.replace("port: 17000", "port: 17100")
                .replace("types: [event, metric]", "types: [event, metrix]"));
        assertThat(installer.apply(yaml)).isFalse();

        assertThat(cm.pids()).containsExactlyInAnyOrder(TCP, CORRELATION, FILES, HOOKS, RULE_FR, RULE_Q, RULE_DEFAULT);
        assertThat(cm.properties(TCP)).isEqualTo(tcpBefore);
        assertThat(cm.changeCount(RULE_FR)).isEqualTo(changes);
    }

    @Test
    void invalidFirstVersionCreatesNothingAndAFixedOneApplies() throws Exception {
        write(yaml, "tcp: {port: 17000}\nrouting: {default: [files]}\n");
        installer.install(yaml);
        assertThat(cm.pids()).isEmpty();

        write(yaml, "tcp: {port: 17000}\nrouting: {default: [{backend: files}]}\n");
        installer.update(yaml);
        assertThat(cm.pids()).containsExactlyInAnyOrder(TCP, RULE_DEFAULT);
    }

    @Test
    void cfgFileInTheSameFolderWinsForASingleton() throws Exception {
        Files.writeString(etc.resolve(TCP + ".cfg"), "port=17000\n");
        cm.putFromCfg(TCP, Map.of("port", "17000"), etc.resolve(TCP + ".cfg").toUri().toString());
        write(yaml, "tcp: {port: 18000}\nbuffers: {batch_size: 50}\n");

        installer.install(yaml);

        assertThat(cm.properties(TCP)).containsEntry("port", "17000").doesNotContainKey(YamlInstaller.MARKER);
        assertThat(cm.properties(CORRELATION)).containsEntry("batch.size", 50);

        yaml.delete();
        installer.uninstall(yaml);
        assertThat(cm.pids()).as("the .cfg's configuration is not deleted").containsExactly(TCP);
    }

    @Test
    void singletonFromAnotherSourceIsNeitherOverwrittenNorDeleted() throws Exception {
        cm.putFromCfg(CORRELATION, Map.of("batch.size", "10"), "file:/elsewhere/io.signalbox.correlation.cfg");
        write(yaml, "buffers: {batch_size: 50}\n");
        installer.install(yaml);
        assertThat(cm.properties(CORRELATION)).containsEntry("batch.size", "10");
        installer.uninstall(yaml);
        assertThat(cm.properties(CORRELATION)).containsEntry("batch.size", "10");
    }

    @Test
    void singletonCreatedByTheYamlIsDeletedWithIt() throws Exception {
        write(yaml, "tcp: {port: 18000}\n");
        installer.install(yaml);
        assertThat(cm.pids()).containsExactly(TCP);
        installer.uninstall(yaml);
        assertThat(cm.pids()).isEmpty();
    }

    @Test
    void backendNameTakenByAnotherYamlFileStaysWithThatFile() throws Exception {
        File first = etc.resolve("first.yaml").toFile();
        write(first, "backends: {files: {type: file, path: a}}\n");
        installer.install(first);
        write(yaml, "backends: {files: {type: file, path: b}}\n");
        installer.install(yaml);

        assertThat(cm.properties(FILES)).containsEntry("path", "a")
                .containsEntry(YamlInstaller.MARKER, YamlInstaller.pathOf(first));
        installer.uninstall(yaml);
        assertThat(cm.pids()).containsExactly(FILES);
    }

    @Test
    void configurationsOfYamlFilesThatNoLongerExistAreDeletedAsOrphans() throws Exception {
        write(yaml, "backends: {files: {type: file, path: a}}\n");
        installer.install(yaml);
        File kept = etc.resolve("kept.yaml").toFile();
        write(kept, "backends: {kept: {type: file, path: k}}\n");
        installer.install(kept);
        yaml.delete();

        assertThat(installer.deleteOrphans()).containsExactly(FILES);
        assertThat(cm.pids()).containsExactly("io.signalbox.backend.file~kept");
    }

    @Test
    void pathsWithFilterCharactersAreMatchedExactly() throws Exception {
        Path dir = Files.createDirectories(etc.resolve("we*ird (dir)"));
        File odd = dir.resolve("sidecar-config.yaml").toFile();
        write(odd, "backends: {odd: {type: file}}\n");
        installer.install(odd);
        write(yaml, "backends: {files: {type: file}}\n");
        installer.install(yaml);

        installer.uninstall(odd);
        assertThat(cm.pids()).containsExactly(FILES);
    }

    @Test
    void handlesYamlAndYmlFilesOnly() {
        assertThat(installer.canHandle(new File("etc/sidecar-config.yaml"))).isTrue();
        assertThat(installer.canHandle(new File("etc/routes.YML"))).isTrue();
        assertThat(installer.canHandle(new File("etc/io.signalbox.route-a.cfg"))).isFalse();
        assertThat(installer.canHandle(new File("deploy/backend.jar"))).isFalse();
        assertThat(installer.canHandle(new File("etc/.sidecar-config.yaml"))).as("hidden editor file").isFalse();
        assertThat(installer.canHandle(new File("etc/seed004.rules.yml"))).as("alerting rules: the alerting bundle's").isFalse();
        assertThat(installer.canHandle(new File("etc/disk.Rules.YAML"))).isFalse();
    }

    @Test
    void oversizedFileIsRejected() throws Exception {
        YamlInstaller small = new YamlInstaller(cm, 16);
        write(yaml, "tcp: {host: 127.0.0.1, port: 17000, max_line_length: 65536}\n");
        assertThat(small.apply(yaml)).isFalse();
        assertThat(cm.pids()).isEmpty();
    }
}
