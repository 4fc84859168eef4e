package io.signalbox.config.yaml.internal;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;

/**
 * Registers the {@link YamlInstaller} as a felix-fileinstall {@link ArtifactInstaller}, so that
 * {@code *.yaml} files in the watched folders ({@code etc/}, {@code deploy/}) become
 * configurations. Optional configuration PID {@value #PID}.
 *
 * <p>The service is registered by the component itself, and only with a valid configuration:
 * a rejected one is logged at ERROR and counted, and the component does not start (or, on a
 * modification, the previous configuration stays in force; {@link ConfigCheck}).
 */
@Component(name = YamlConfigComponent.PID, configurationPid = YamlConfigComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {}, immediate = true)
@Designate(ocd = YamlConfigComponent.Config.class)
public final class YamlConfigComponent {
    /** PID of the optional configuration: {@code etc/io.signalbox.config.yaml.cfg}. */
    public static final String PID = "io.signalbox.config.yaml";

    private static final Logger LOG = LoggerFactory.getLogger(YamlConfigComponent.class);

    @ObjectClassDefinition(id = PID, name = "Signalbox YAML configuration", description = "Applies sidecar-config.yaml files dropped into the watched folders as configurations.")
    public @interface Config {
        @AttributeDefinition(description = "Larger YAML files are rejected, in KiB.") int max_file_kb() default 1024;
        @AttributeDefinition(description = "On start, delete the configurations of YAML files that no longer exist.") boolean delete_orphans() default true;
    }

    /**
     * The installer's settings, checked once.
     *
     * @param maxFileKb     larger YAML files are rejected
     * @param deleteOrphans on start, delete the configurations of YAML files that no longer exist
     */
    record Settings(int maxFileKb, boolean deleteOrphans) {
        /** @throws ConfigCheck.Rejected naming every problem (unknown keys, types, ranges) */
        static Settings of(Config c, Map<String, ?> properties) {
            ConfigValues v = ConfigValues.of(Config.class, c, properties);
            Settings s = new Settings(v.range("max.file.kb", c.max_file_kb(), 1, 64 * 1024), c.delete_orphans());
            v.done();
            return s;
        }

        int maxFileChars() {
            return maxFileKb * 1024;
        }

        @Override
        public String toString() {
            return "max.file.kb=" + maxFileKb + ", delete.orphans=" + deleteOrphans;
        }
    }

    private final YamlInstaller installer;
    private volatile Settings settings;
    private ServiceRegistration<ArtifactInstaller> registration;

    /** Checks the configuration, then starts the installer and registers it. */
    @Activate
    public YamlConfigComponent(Config config, Map<String, Object> properties, BundleContext context,
            @Reference ConfigurationAdmin cm) {
        Settings s = ConfigCheck.activate(LOG, PID, properties, () -> Settings.of(config, properties));
        this.settings = s;
        this.installer = new YamlInstaller(cm, s.maxFileChars(), watchedFolders(context));
        if (s.deleteOrphans()) {
            installer.deleteOrphans();
        }
        if (context != null) {
            registration = context.registerService(ArtifactInstaller.class, installer, null);
        }
        LOG.info("YAML configuration installer started ({})", s);
    }

    /** Applies a changed configuration, or keeps the one in force if it is rejected. */
    @Modified
    void modified(Config newConfig, Map<String, Object> properties) {
        Settings s = ConfigCheck.modify(LOG, PID, properties, () -> Settings.of(newConfig, properties), settings);
        if (s == null) {
            return;
        }
        settings = s;
        installer.maxFileChars(s.maxFileChars());
        LOG.info("YAML configuration installer reconfigured ({})", s);
    }

    /** fileinstall's folders ({@code felix.fileinstall.dir}, comma-separated), relative to the working directory. */
    static List<File> watchedFolders(BundleContext context) {
        List<File> out = new ArrayList<>();
        String dirs = context == null ? null : context.getProperty("felix.fileinstall.dir");
        if (dirs != null) {
            for (String d : dirs.split(",")) {
                if (!d.isBlank()) {
                    out.add(new File(d.trim()).getAbsoluteFile());
                }
            }
        }
        return out;
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
            registration = null;
        }
    }

    YamlInstaller installer() {
        return installer;
    }

    /** The settings in force. */
    Settings settings() {
        return settings;
    }
}
