package io.signalbox.backend.file.internal;

import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendNames;
import io.signalbox.api.StatsSource;

/**
 * One file backend per factory configuration {@code etc/io.signalbox.backend.file-<name>.cfg}.
 *
 * <p>The component registers the {@link FileBackend} as {@link Backend} and {@link StatsSource}
 * itself, because its service properties are computed: {@value Backend#NAME} = the instance
 * name (explicit {@code name}, else the part of the PID after {@code ~}, else the {@code -<name>}
 * part of the file name) and {@value Backend#KIND} = {@code file}. A changed configuration
 * re-creates the backend (files are closed and reopened; nothing is lost).
 */
@Component(name = FileBackendComponent.FACTORY_PID, configurationPid = FileBackendComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = FileBackendComponent.Config.class, factory = true)
public final class FileBackendComponent {
    /** Factory PID: {@code etc/io.signalbox.backend.file-<name>.cfg}. */
    public static final String FACTORY_PID = "io.signalbox.backend.file";
    /** Value of the {@value Backend#KIND} service property. */
    public static final String KIND = "file";

    private static final Logger LOG = LoggerFactory.getLogger(FileBackendComponent.class);

    @ObjectClassDefinition(id = FACTORY_PID, name = "Signalbox file backend",
            description = "JSON lines files with a path template, daily and size rotation, gzip and an fsync policy.")
    public @interface Config {
        @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.")
        String name() default "";

        @AttributeDefinition(description = "Root folder; relative paths are relative to the working directory.")
        String path() default "data/files";

        @AttributeDefinition(description = "File path under 'path': {source} {date} (yyyy-MM-dd) {hour} (HH) {type}; UTC write time.")
        String path_template() default "{source}/{date}.jsonl";

        @AttributeDefinition(description = "Rotate a file before it would exceed this many MiB: <base>.1.jsonl, <base>.2.jsonl, ...; 0 = off.")
        double rotate_size_mb() default 0;

        @AttributeDefinition(description = "Gzip files once they are rotated (by size or when their day/hour is over).")
        boolean compress_rotated() default false;

        @AttributeDefinition(description = "When data is forced to disk: never, batch (before a batch counts as delivered), interval.",
                options = {@Option(label = "never", value = "never"), @Option(label = "batch", value = "batch"),
                        @Option(label = "interval", value = "interval")})
        String fsync() default "interval";

        @AttributeDefinition(description = "Period of fsync=interval, in milliseconds.")
        long fsync_interval_ms() default 1000;

        @AttributeDefinition(description = "Write buffer in KiB, shared by the files of one batch.")
        int buffer_kb() default 64;

        @AttributeDefinition(description = "Close files nobody wrote to for this many seconds; 0 = never.")
        long idle_close_seconds() default 300;

        @AttributeDefinition(description = "At most this many files open at once; the least recently written is closed first.")
        int max_open_files() default 1000;
    }

    private final FileBackend backend;
    private ServiceRegistration<?> registration;

    @Activate
    public FileBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        String name = instanceName(config, properties);
        backend = new FileBackend(name, config);
        try {
            registration = context.registerService(
                    new String[] {Backend.class.getName(), StatsSource.class.getName()}, backend,
                    serviceProperties(properties, name));
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /** Unregisters the backend, then closes its files (forced to disk unless fsync=never). */
    @Deactivate
    public void deactivate() {
        ServiceRegistration<?> r = registration;
        registration = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("File backend \"{}\" was already unregistered", backend.name(), e);
            }
        }
        backend.close();
    }

    /** The instance name: explicit {@code name}, else the PID or file name part (see {@link BackendNames}). */
    static String instanceName(Config config, Map<String, ?> properties) {
        if (config.name() != null && !config.name().isBlank()) {
            return config.name().trim();
        }
        String derived = BackendNames.of(properties);
        if (derived != null && !derived.isBlank()) {
            return derived;
        }
        Object pid = properties.get("service.pid");
        return pid != null ? pid.toString() : KIND;
    }

    /** Public component properties (not starting with '.') plus name and kind. */
    static Hashtable<String, Object> serviceProperties(Map<String, ?> properties, String name) {
        Hashtable<String, Object> out = new Hashtable<>();
        properties.forEach((k, v) -> {
            if (v != null && !k.startsWith(".") && !k.equals("objectClass") && !k.equals("service.id")
                    && !k.equals("service.bundleid") && !k.equals("service.scope")) {
                out.put(k, v);
            }
        });
        out.put(Backend.NAME, name);
        out.put(Backend.KIND, KIND);
        return out;
    }
}
