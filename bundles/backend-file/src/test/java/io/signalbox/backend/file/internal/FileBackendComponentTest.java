package io.signalbox.backend.file.internal;

import static io.signalbox.backend.file.internal.TestSupport.config;
import static io.signalbox.backend.file.internal.TestSupport.batch;
import static io.signalbox.backend.file.internal.TestSupport.lines;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

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
        Map<String, Object> p = new HashMap<>();
        p.put("service.pid", "io.signalbox.backend.file.4711");
        p.put("service.factoryPid", FileBackendComponent.FACTORY_PID);
        p.put("felix.fileinstall.filename", "file:/x/etc/io.signalbox.backend.file-audit.cfg");
        p.put("path", dir.resolve(sub).toString());
        p.put("fsync", "never");
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put((String) keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    private static FileBackendComponent.Config cfg(Map<String, Object> props) {
        return org.osgi.util.converter.Converters.standardConverter().convert(props).to(FileBackendComponent.Config.class);
    }

    private FileBackendComponent activate(Map<String, Object> props) {
        component = new FileBackendComponent(cfg(props), props, context());
        return component;
    }

    private static List<String> linesUnder(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<String> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().collect(Collectors.toList())) {
                out.addAll(Files.readAllLines(f));
            }
            return out;
        }
    }

    private Backend registered() {
        assertThat(registrations).isNotEmpty();
        return (Backend) registrations.get(registrations.size() - 1).service;
    }

    @Test
    void unknownKeyIsRejectedWithDidYouMeanAndNothingIsRegistered() {
        Map<String, Object> props = props("a", "fsnyc", "batch");

        assertThat(FileBackendComponent.problems(cfg(props), props))
                .startsWith("unknown key 'fsnyc' (did you mean 'fsync'?)");
        activate(props);
        assertThat(registrations).isEmpty();
    }

    @Test
    void badTypesAndValuesAreRejectedAsAWhole() {
        Map<String, Object> badType = props("a", "buffer.kb", "lots");
        Map<String, Object> badValues = props("a", "fsync", "sometimes", "path.template", "{source}/{dat}.jsonl",
                "max.open.files", 0);

        assertThat(FileBackendComponent.problems(cfg(badType), badType))
                .contains("'buffer.kb' = 'lots' is not a valid int");
        assertThat(FileBackendComponent.problems(cfg(badValues), badValues))
                .contains("fsync must be one of never, batch, interval").contains("unknown placeholder {dat}")
                .contains("max.open.files must be >= 1, is 0");
    }

    @Test
    void invalidModificationKeepsThePreviousConfigurationInForce() throws Exception {
        activate(props("a"));
        Backend backend = registered();

        Map<String, Object> typo = props("b", "compres.rotated", true);
        Map<String, Object> badValue = props("b", "rotate.size.mb", -1);
        assertThat(component.apply(cfg(typo), typo, true)).isFalse();
        assertThat(component.apply(cfg(badValue), badValue, true)).isFalse();
        backend.write(batch("web", 0, 3));

        assertThat(linesUnder(dir.resolve("a"))).containsExactlyElementsOf(lines(batch("web", 0, 3)));
        assertThat(dir.resolve("b")).doesNotExist();
        assertThat(registrations).hasSize(1);
        assertThat(registrations.get(0).properties).containsEntry("path", dir.resolve("a").toString());
    }

    @Test
    void validModificationClosesTheFilesAndWritesUnderTheNewPathWithTheSameRegistration() throws Exception {
        activate(props("a"));
        Backend backend = registered();
        backend.write(batch("web", 0, 2));

        Map<String, Object> moved = props("b");
        assertThat(component.apply(cfg(moved), moved, true)).isTrue();
        backend.write(batch("web", 2, 2));

        assertThat(linesUnder(dir.resolve("a"))).containsExactlyElementsOf(lines(batch("web", 0, 2)));
        assertThat(linesUnder(dir.resolve("b"))).containsExactlyElementsOf(lines(batch("web", 2, 2)));
        assertThat(registrations).as("same registration").hasSize(1);
        assertThat(registrations.get(0).properties).containsEntry(Backend.NAME, "audit")
                .containsEntry("path", dir.resolve("b").toString());
        assertThat(component.backend().root()).isEqualTo(dir.resolve("b").toAbsolutePath().normalize());
    }

    @Test
    void newInstanceNameRegistersTheBackendAnew() throws Exception {
        activate(props("a"));

        Map<String, Object> renamed = props("a", "name", "archive");
        assertThat(component.apply(cfg(renamed), renamed, true)).isTrue();

        assertThat(registrations).hasSize(2);
        assertThat(registrations.get(0).properties).as("old registration gone").isNull();
        assertThat(registrations.get(1).properties).containsEntry(Backend.NAME, "archive");
        registered().write(batch("web", 0, 1));
        assertThat(linesUnder(dir.resolve("a"))).containsExactlyElementsOf(lines(batch("web", 0, 1)));
    }

    @Test
    void invalidFirstConfigurationRegistersNothingUntilAValidOneArrives() throws Exception {
        Map<String, Object> bad = props("a", "fsync", "always");
        activate(bad);
        assertThat(registrations).isEmpty();

        Map<String, Object> fixed = props("a");
        assertThat(component.apply(cfg(fixed), fixed, true)).isTrue();

        assertThat(registrations).singleElement().satisfies(r -> assertThat(r.properties).containsEntry(Backend.NAME, "audit"));
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
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> backend.write(batch("web", 1, 1)))
                .isInstanceOf(IOException.class);
    }
}
