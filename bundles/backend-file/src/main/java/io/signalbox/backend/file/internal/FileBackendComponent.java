package io.signalbox.backend.file.internal;

import java.util.Map;

import org.osgi.framework.BundleContext;
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
import io.signalbox.api.BackendLifecycle;

/**
 * One file backend per factory configuration {@code etc/io.signalbox.backend.file-<name>.cfg}:
 * its typed configuration, validated once into {@link FileSettings}, and a {@link BackendLifecycle}
 * that registers the {@link FileBackendService} under the instance name.
 *
 * <p>An invalid first configuration is rejected (logged, counted, nothing registered; DS retries
 * when it changes); an invalid modification keeps the configuration in force; a valid one is
 * applied live: the batch being written finishes, files are closed, the next batch is written
 * with the new settings, nothing is lost.
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
        @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> of the config file or ~<name> of the PID.")
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

    private final BackendLifecycle<FileSettings, FileBackendService> lifecycle;

    /** @throws io.signalbox.api.ConfigCheck.Rejected if the configuration is invalid (logged and counted) */
    @Activate
    public FileBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        lifecycle = new BackendLifecycle<>(context, FACTORY_PID, KIND, LOG, FileBackendService::new, FileSettings::describe);
        lifecycle.activate(properties, config.name(), () -> FileSettings.of(config, properties));
    }

    @Modified
    void modified(Config config, Map<String, Object> properties) {
        lifecycle.modify(properties, config.name(), () -> FileSettings.of(config, properties));
    }

    @Deactivate
    void deactivate() {
        lifecycle.deactivate();
    }
}
