package io.signalbox.backend.file.internal;

import static io.signalbox.backend.file.internal.TestSupport.batch;
import static io.signalbox.backend.file.internal.TestSupport.lines;
import static io.signalbox.backend.file.internal.TestSupport.properties;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import io.signalbox.api.Backend;
import io.signalbox.api.ConfigCheck;

class FileBackendComponentTest {
    @TempDir
    Path dir;

    /** What the fake BundleContext registered; {@code properties} follow setProperties, {@code null} once unregistered. */
    static final class Registration {
        Object service;
        Map<String, Object> properties;
    }

    private final List<Registration> registrations = new ArrayList<>();
    private FileBackendComponent component;

    @AfterEach
    void stop() {
        if (component != null) {
            component.deactivate();
        }
    }

    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    if (!method.getName().equals("registerService")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    Registration r = new Registration();
                    r.service = args[1];
                    r.properties = toMap((Dictionary<?, ?>) args[2]);
                    registrations.add(r);
                    return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ServiceRegistration.class},
                            (p, m, a) -> {
                                switch (m.getName()) {
                                    case "setProperties" -> r.properties = toMap((Dictionary<?, ?>) a[0]);
                                    case "unregister" -> r.properties = null;
                                    default -> throw new UnsupportedOperationException(m.getName());
                                }
                                return null;
                            });
                });
    }

    private static Map<String, Object> toMap(Dictionary<?, ?> d) {
        Map<String, Object> m = new HashMap<>();
        for (var keys = d.keys(); keys.hasMoreElements();) {
            Object k = keys.nextElement();
            m.put(k.toString(), d.get(k));
        }
        return m;
    }

    /** A fileinstall-style factory configuration for instance {@code audit}, writing under {@code dir/<sub>}. */
    private Map<String, Object> props(String sub, Object... keyValues) {
        Map<String, Object> p = properties(dir.resolve(sub), keyValues);
        p.put("service.pid", "io.signalbox.backend.file.4711");
        p.put("service.factoryPid", FileConfig.PID);
        p.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.file-audit.cfg");
        p.putIfAbsent("fsync", "never");
        return p;
    }

    private void activate(Map<String, Object> props) {
        component = new FileBackendComponent();
        component.activate(context(), props);
    }

    private void modify(Map<String, Object> props) {
        component.modified(props);
    }

    private static List<String> linesUnder(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<String> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                out.addAll(Files.readAllLines(f));
            }
            return out;
        }
    }

    private FileBackendService registered() {
        assertThat(registrations).isNotEmpty();
        return (FileBackendService) registrations.get(registrations.size() - 1).service;
    }

    @Test
    void theBackendIsPublishedWithFrameworkKeysNameAndKindButNoConfigurationValues() {
        activate(props("a", ".secret", "s"));

        assertThat(registrations).singleElement().satisfies(r -> assertThat(r.properties)
                .containsEntry(Backend.NAME, "audit").containsEntry(Backend.KIND, "file")
                .containsEntry("service.pid", "io.signalbox.backend.file.4711")
                .containsEntry("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.file-audit.cfg")
                .doesNotContainKeys("path", "fsync", ".secret"));
    }

    @Test
    void instanceNameIsTheNameKeyElseTheFileElseThePid() {
        activate(props("a", "name", "archive"));
        assertThat(registrations.get(0).properties).containsEntry(Backend.NAME, "archive");
        component.deactivate();

        Map<String, Object> byPid = properties(dir.resolve("a"), "fsync", "never");
        byPid.put("service.pid", "io.signalbox.backend.file~billing");
        activate(byPid);
        assertThat(registrations.get(1).properties).containsEntry(Backend.NAME, "billing");
    }

    @Test
    void aConfigurationWithoutAnInstanceNameIsRejected() {
        Map<String, Object> nameless = properties(dir.resolve("a"));
        nameless.put("service.pid", "io.signalbox.backend.file.4711");
        long rejected = ConfigCheck.rejectionCount();

        assertThatThrownBy(() -> activate(nameless)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("no backend name: set 'name' or use a file etc/io.signalbox.backend.file-<name>.cfg");
        assertThat(registrations).isEmpty();
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejected + 1);
    }

    @Test
    void invalidFirstConfigurationIsCountedAndThrownSoNothingIsRegistered() {
        long rejected = ConfigCheck.rejectionCount();

        assertThatThrownBy(() -> activate(props("a", "fsync", "always", "fsnyc", "batch")))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("configuration io.signalbox.backend.file.4711"
                        + " (file:/x/etc/io.signalbox.backend.file-audit.cfg) rejected: unknown key 'fsnyc'");
        assertThatThrownBy(() -> activate(props("a", "fsync", "always")))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageEndingWith("rejected: 'fsync' must be one of never, batch, interval, is \"always\"");
        assertThat(registrations).isEmpty();
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejected + 2);
        assertThat(dir.resolve("a")).doesNotExist();
    }

    @Test
    void invalidModificationIsCountedAndKeepsThePreviousConfigurationInForce() throws Exception {
        activate(props("a"));
        long rejected = ConfigCheck.rejectionCount();

        modify(props("b", "compres.rotated", true));
        modify(props("b", "rotate.size.mb", -1));
        registered().write(batch("web", 0, 3));

        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejected + 2);
        assertThat(linesUnder(dir.resolve("a"))).containsExactlyElementsOf(lines(batch("web", 0, 3)));
        assertThat(dir.resolve("b")).doesNotExist();
        assertThat(registrations).hasSize(1);
        assertThat(registrations.get(0).properties).containsEntry(Backend.NAME, "audit");
    }

    @Test
    void validModificationClosesTheFilesAndWritesUnderTheNewPathWithTheSameRegistration() throws Exception {
        activate(props("a"));
        FileBackendService backend = registered();
        backend.write(batch("web", 0, 2));

        modify(props("b"));
        backend.write(batch("web", 2, 2));

        assertThat(linesUnder(dir.resolve("a"))).containsExactlyElementsOf(lines(batch("web", 0, 2)));
        assertThat(linesUnder(dir.resolve("b"))).containsExactlyElementsOf(lines(batch("web", 2, 2)));
        assertThat(registrations).as("same registration").hasSize(1);
        assertThat(registrations.get(0).properties).containsEntry(Backend.NAME, "audit");
        assertThat(backend.current().settings().root()).isEqualTo(dir.resolve("b").toAbsolutePath().normalize());
    }

    @Test
    void newInstanceNameRegistersTheBackendAnew() throws Exception {
        activate(props("a"));

        modify(props("a", "name", "archive"));

        assertThat(registrations).hasSize(2);
        assertThat(registrations.get(0).properties).as("old registration gone").isNull();
        assertThat(registrations.get(1).properties).containsEntry(Backend.NAME, "archive");
        registered().write(batch("web", 0, 1));
        assertThat(linesUnder(dir.resolve("a"))).containsExactlyElementsOf(lines(batch("web", 0, 1)));
    }

    @Test
    void deactivateUnregistersAndClosesTheFiles() throws Exception {
        activate(props("a"));
        Backend backend = registered();
        backend.write(batch("web", 0, 1));

        component.deactivate();
        component = null;

        assertThat(registrations.get(0).properties).isNull();
        assertThat(linesUnder(dir.resolve("a"))).hasSize(1);
        assertThatThrownBy(() -> backend.write(batch("web", 1, 1))).isInstanceOf(IOException.class);
    }
}
