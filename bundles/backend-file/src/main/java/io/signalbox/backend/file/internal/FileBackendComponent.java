package io.signalbox.backend.file.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.signalbox.api.BackendComponent;

/**
 * One file backend per factory configuration {@code etc/io.signalbox.backend.file-<name>.cfg}:
 * its typed configuration, validated once into {@link FileSettings}, and a {@link io.signalbox.api.BackendLifecycle}
 * that registers the {@link FileBackendService} under the instance name.
 *
 * <p>An invalid first configuration is rejected (logged, counted, nothing registered; DS retries
 * when it changes); an invalid modification keeps the configuration in force; a valid one is
 * applied live: the batch being written finishes, files are closed, the next batch is written
 * with the new settings, nothing is lost.
 */
@Component(name = FileConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = FileConfig.class, factory = true)
public final class FileBackendComponent extends BackendComponent<FileConfig, FileSettings, FileBackendService> {
    public FileBackendComponent() {
        super(FileConfig.PID, "file", FileConfig.class, FileSettings::of, FileBackendService::new, FileSettings::describe);
    }
}
