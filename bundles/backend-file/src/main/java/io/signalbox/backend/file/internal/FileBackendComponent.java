package io.signalbox.backend.file.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.StatsSource;

/**
 * One file backend per factory configuration {@code etc/io.signalbox.backend.file-<name>.cfg}.
 *
 * <p>The component registers the {@link FileBackend} as {@link Backend} and {@link StatsSource}
 * itself, because its service properties are computed: {@value Backend#NAME} = the instance
 * name (explicit {@code name}, else the part of the PID after {@code ~}, else the {@code -<name>}
 * part of the file name) and {@value Backend#KIND} = {@code file}. The whole configuration is
 * validated before it takes effect; a valid change is applied live ({@link #modified}): files are
 * closed and the next batch is written with the new settings; nothing is lost.
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

    /** Largest {@code buffer.kb}. */
    static final int MAX_BUFFER_KB = 16 * 1024;

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

    private final BundleContext context;
    /** Guarded by {@code this}; {@code null} while no valid configuration was ever given. */
    private FileBackendService service;
    private ServiceRegistration<?> registration;
    private String name;

    /**
     * Validates the whole configuration (unknown keys, types, values, path template) and, if it
     * is valid, registers the backend. If it is not, the reason is logged at ERROR and nothing is
     * registered (a later valid modification registers it).
     */
    @Activate
    public FileBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        this.context = context;
        apply(config, properties, false);
    }

    /**
     * A changed configuration. Invalid: ERROR with the reason, and the configuration in force
     * stays. Valid: the batch being written finishes, open files are flushed and closed, and the
     * next batches are written with the new settings; the registration stays (its properties
     * follow the configuration) unless the instance name changed, then the backend is
     * registered anew under the new name.
     */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        apply(config, properties, true);
    }

    /** @return whether the configuration was applied */
    synchronized boolean apply(Config config, Map<String, ?> properties, boolean modification) {
        String problem = problems(config, properties);
        if (problem != null) {
            String consequence = !modification ? "; the backend is not registered"
                    : service != null ? "; the previous configuration stays in force"
                    : "; the backend stays unregistered";
            LOG.error("{}{}", ConfigCheck.rejection(FACTORY_PID, properties, problem), consequence);
            return false;
        }
        String newName = instanceName(config, properties);
        FileBackend next = new FileBackend(newName, config);
        if (service != null && newName.equals(name)) {
            service.replace(next);
            try {
                registration.setProperties(serviceProperties(properties, newName));
            } catch (IllegalStateException e) {
                LOG.warn("File backend \"{}\": its registration is gone; new properties not published", newName, e);
            }
            LOG.info("File backend \"{}\" reconfigured", newName);
            return true;
        }
        if (service != null) {
            LOG.info("File backend \"{}\" renamed to \"{}\": registered anew", name, newName);
            unregister();
        }
        FileBackendService created = new FileBackendService(next);
        try {
            registration = context.registerService(
                    new String[] {Backend.class.getName(), StatsSource.class.getName()}, created,
                    serviceProperties(properties, newName));
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        service = created;
        name = newName;
        return true;
    }

    /** Everything wrong with a configuration (keys, types, values), or {@code null} if it is valid. */
    static String problems(Config c, Map<String, ?> properties) {
        String keysAndTypes = ConfigCheck.keysAndTypes(Config.class, c, properties);
        if (keysAndTypes != null) {
            return keysAndTypes;
        }
        List<String> out = new ArrayList<>();
        try {
            new PathTemplate(c.path_template());
        } catch (IllegalArgumentException e) {
            out.add(e.getMessage());
        }
        try {
            FsyncPolicy.parse(c.fsync());
        } catch (IllegalArgumentException e) {
            out.add(e.getMessage());
        }
        try {
            Path.of(c.path().isBlank() ? "data/files" : c.path().trim());
        } catch (InvalidPathException e) {
            out.add("path \"" + c.path() + "\" is not a valid path: " + e.getMessage());
        }
        if (!(c.rotate_size_mb() >= 0)) {
            out.add("rotate.size.mb must be >= 0, is " + c.rotate_size_mb());
        }
        if (c.fsync_interval_ms() < 1) {
            out.add("fsync.interval.ms must be >= 1, is " + c.fsync_interval_ms());
        }
        if (c.buffer_kb() < 1 || c.buffer_kb() > MAX_BUFFER_KB) {
            out.add("buffer.kb must be 1.." + MAX_BUFFER_KB + ", is " + c.buffer_kb());
        }
        if (c.idle_close_seconds() < 0) {
            out.add("idle.close.seconds must be >= 0, is " + c.idle_close_seconds());
        }
        if (c.max_open_files() < 1) {
            out.add("max.open.files must be >= 1, is " + c.max_open_files());
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }

    /** Unregisters the backend, then closes its files (forced to disk unless fsync=never). */
    @Deactivate
    public synchronized void deactivate() {
        unregister();
    }

    private void unregister() {
        ServiceRegistration<?> r = registration;
        FileBackendService s = service;
        registration = null;
        service = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("File backend \"{}\" was already unregistered", name, e);
            }
        }
        if (s != null) {
            s.close();
        }
    }

    /** The backend in force, for tests; {@code null} when none is registered. */
    synchronized FileBackend backend() {
        return service == null ? null : service.current();
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
