package io.signalbox.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;

/**
 * A {@code sidecar-config.yaml} file installed, updated and uninstalled through the YAML bundle's
 * fileinstall {@link ArtifactInstaller} (called directly, as fileinstall does for a file in
 * {@code etc/}): it creates, updates and deletes the backend and route configurations.
 */
class YamlConfigIT extends SidecarTest {
    private static final String YAML_SRC_ROUTE = "  yaml-src:\n    - {backend: yfiles}\n";
    private static final String YAML_METRICS_ROUTE = "  yaml-metrics:\n    - {backend: yfiles, filter: {types: [metric]}}\n";

    private File yaml;
    private ArtifactInstaller installer;

    @BeforeEach
    void findInstaller() throws Exception {
        yaml = dir.resolve("etc").resolve("sidecar-config.yaml").toFile();
        Files.createDirectories(yaml.toPath().getParent());
        Sidecar.waitUntil("the YAML ArtifactInstaller service", () -> installer() != null);
        installer = installer();
    }

    @Override
    void cleanUp() throws Exception {
        if (installer != null && yaml.exists()) {
            installer.uninstall(yaml);
        }
        super.cleanUp();
    }

    @Test
    void yamlFileInstalledUpdatedAndUninstalledCreatesUpdatesAndDeletesItsConfigurations() throws Exception {
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        write(fileBackendAndRoutes(first, YAML_SRC_ROUTE));
        assertThat(installer.canHandle(yaml)).isTrue();

        installer.install(yaml);

        assertThat(backendPaths("yfiles")).containsExactly(first.toString());
        assertThat(routeConfigurations()).as("routes created from the file").hasSize(1);
        awaitDelivery("yaml-src", first);

        // update: the backend writes elsewhere and a second source gets a route with a types filter
        write(fileBackendAndRoutes(second, YAML_SRC_ROUTE, YAML_METRICS_ROUTE));
        installer.update(yaml);

        assertThat(backendPaths("yfiles")).containsExactly(second.toString());
        assertThat(routeConfigurations()).as("routes after the update").hasSize(2);
        awaitDelivery("yaml-src", second);
        awaitDelivery("yaml-metrics", second);

        // an invalid version changes nothing
        write("backends:\n  yfiles:\n    typ: file\n");
        installer.update(yaml);
        assertThat(backendPaths("yfiles")).containsExactly(second.toString());
        assertThat(routeConfigurations()).hasSize(2);

        installer.uninstall(yaml);
        Files.delete(yaml.toPath());

        assertThat(backendPaths("yfiles")).as("backend configuration deleted").isEmpty();
        assertThat(routeConfigurations()).as("route configurations deleted").isEmpty();
        // an anchor route keeps the table non-empty, so yaml-src's messages are counted unrouted
        Path anchor = fileBackend("yaml-anchor");
        sidecar.route("yaml-anchor", Map.of("source", "yaml-anchor-src", "backends", new String[] {"yaml-anchor"}));
        awaitDelivery("yaml-anchor-src", anchor);
        long unroutedBefore = sidecar.unrouted();
        sidecar.send(Sidecar.event("yaml-src", "gone", 1).replace("\"info\"", "\"error\""));
        Sidecar.waitUntil("yaml-src unrouted after the file is gone", () -> sidecar.unrouted() - unroutedBefore == 1);
        assertThat(String.join("\n", Sidecar.lines(second))).doesNotContain("gone-1");
    }

    // --- helpers -----------------------------------------------------------------------

    private ArtifactInstaller installer() {
        try {
            Collection<ServiceReference<ArtifactInstaller>> refs = context.getServiceReferences(ArtifactInstaller.class, null);
            for (ServiceReference<ArtifactInstaller> ref : refs) {
                ArtifactInstaller i = context.getService(ref);
                if (i != null && i.canHandle(new File("probe.yaml"))) {
                    return i;
                }
            }
            return null;
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Backend yfiles (a file backend writing under {@code path}) and the given routes (YAML of the routing map). */
    private static String fileBackendAndRoutes(Path path, String... routes) {
        return """
                backends:
                  yfiles:
                    type: file
                    path: "%s"
                    fsync: never
                routing:
                """.formatted(path) + String.join("", routes);
    }

    private void write(String text) throws IOException {
        Files.writeString(yaml.toPath(), text, StandardCharsets.UTF_8);
    }

    /** The path of every file backend configuration with this instance name. */
    private List<String> backendPaths(String name) throws Exception {
        List<String> paths = new ArrayList<>();
        Configuration[] configs = configAdmin.listConfigurations("(service.factoryPid=io.signalbox.backend.file)");
        for (Configuration c : configs == null ? new Configuration[0] : configs) {
            if (c.getPid().endsWith("~" + name) || name.equals(c.getProperties().get("name"))) {
                paths.add(String.valueOf(c.getProperties().get("path")));
            }
        }
        return paths;
    }

    /** Route configurations that the YAML file created (they carry its path). */
    private List<Configuration> routeConfigurations() throws Exception {
        List<Configuration> mine = new ArrayList<>();
        Configuration[] configs = configAdmin.listConfigurations("(service.factoryPid=io.signalbox.route)");
        for (Configuration c : configs == null ? new Configuration[0] : configs) {
            Object file = c.getProperties().get(".signalbox.yaml.file");
            if (file != null && file.toString().equals(yaml.getAbsolutePath())) {
                mine.add(c);
            }
        }
        return mine;
    }

    /** Sends probe messages from {@code src} (metrics, so a types filter lets them through) until one is written under {@code root}. */
    private void awaitDelivery(String src, Path root) throws InterruptedException {
        String tag = src + "-probe" + System.nanoTime();
        sidecar.sendUntilWritten(root, tag, n -> "{\"v\":1,\"src\":\"" + src
                + "\",\"ts\":1700000000000,\"type\":\"metric\",\"data\":{\"name\":\"" + tag + "\",\"value\":" + n + "}}");
    }
}
