package io.signalbox.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/**
 * Every backend shipped in {@code optional/} is a single jar that works when dropped into a
 * running sidecar: it resolves against the run set alone (its libraries are embedded), starts,
 * registers a backend for a configuration, and its write path loads all its classes inside
 * OSGi (a write to an endpoint where nothing listens fails with an I/O error, never with a
 * {@link LinkageError}), and it uninstalls cleanly.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class OptionalBackendsIT {

    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = 5000)
    ConfigurationAdmin configAdmin;

    static List<Object[]> backends() {
        return List.of(
                new Object[] {"postgres", Map.of("url", "jdbc:postgresql://127.0.0.1:1/none", "connect.timeout.seconds", 2), false},
                new Object[] {"s3", Map.of("bucket", "signalbox-it", "endpoint", "http://127.0.0.1:1", "path.style", true,
                        "access.key.id", "k", "secret.access.key", "s", "object.max.age.seconds", 3600,
                        "close.timeout.seconds", 1), true},
                new Object[] {"cloudwatch", Map.of("region", "us-east-1", "endpoint", "http://127.0.0.1:1",
                        "access.key.id", "k", "secret.access.key", "s", "max.attempts", 1), false},
                new Object[] {"webhook", Map.of("url", "http://127.0.0.1:1/ingest", "connect.timeout.ms", 2000), false});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void optionalBackendJarInstallsStartsRegistersWritesAndUninstalls(String kind, Map<String, Object> settings,
            boolean writeIsStaged) throws Exception {
        Path jar = Path.of(System.getProperty("signalbox.optional.dir"), "io.signalbox.backend." + kind + ".jar");
        assertThat(jar).exists();
        Bundle bundle = context.installBundle(jar.toUri().toString());
        Configuration config = null;
        Path work = Files.createTempDirectory("signalbox-optional-" + kind);
        try {
            bundle.start();
            assertThat(bundle.getState()).as("%s state", kind).isEqualTo(Bundle.ACTIVE);

            config = configAdmin.getFactoryConfiguration("io.signalbox.backend." + kind, "opt-" + kind, "?");
            java.util.Hashtable<String, Object> props = new java.util.Hashtable<>(settings);
            if ("s3".equals(kind)) {
                props.put("staging.dir", work.resolve("staging").toString());
            }
            config.update(props);
            String filter = "(&(" + Backend.NAME + "=opt-" + kind + ")(" + Backend.KIND + "=" + kind + "))";
            Sidecar.waitUntil(kind + " backend registered", () -> !references(filter).isEmpty());

            ServiceReference<Backend> ref = references(filter).iterator().next();
            Backend backend = context.getService(ref);
            try {
                Batch batch = new Batch("opt-src", List.of(message()));
                if (writeIsStaged) {
                    backend.write(batch); // staged on local disk first; uploaded when the store is reachable
                } else {
                    assertThatThrownBy(() -> backend.write(batch)).as("%s write to a closed port", kind)
                            .isInstanceOf(Exception.class)
                            .satisfies(e -> assertThat(causes(e)).noneMatch(c -> c instanceof LinkageError));
                }
            } finally {
                context.ungetService(ref);
            }
        } finally {
            if (config != null) {
                config.delete();
            }
            bundle.uninstall();
        }
        assertThat(references("(" + Backend.KIND + "=" + kind + ")")).isEmpty();
    }

    private Collection<ServiceReference<Backend>> references(String filter) {
        try {
            return context.getServiceReferences(Backend.class, filter);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> all = new java.util.ArrayList<>();
        for (Throwable c = t; c != null && !all.contains(c); c = c.getCause()) {
            all.add(c);
        }
        return all;
    }

    private static Message message() {
        String line = "{\"v\":1,\"src\":\"opt-src\",\"ts\":1763900000000,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"x\"}}";
        return new Message("opt-src", 1_763_900_000_000L, MessageType.EVENT, null, null, null, "info", null,
                line.getBytes(StandardCharsets.UTF_8));
    }
}
