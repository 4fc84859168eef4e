package io.signalbox.config.yaml.internal;

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

import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigKeys;

/**
 * Registers the {@link YamlInstaller} as a felix-fileinstall {@link ArtifactInstaller}, so that
 * {@code *.yaml} files in the watched folders ({@code etc/}, {@code deploy/}) become
 * configurations. Optional configuration PID {@value #PID}.
 *
 * <p>The service is registered by the component itself, and only with a valid configuration:
 * an invalid one is logged at ERROR and the installer does not start (or, on a modification,
 * the previous configuration stays in force).
 */
@Component(name = YamlConfigComponent.PID, configurationPid = YamlConfigComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {}, immediate = true)
@Designate(ocd = YamlConfigComponent.Config.class)
public final class YamlConfigComponent {
    /** PID of the optional configuration: {@code etc/io.signalbox.config.yaml.cfg}. */
    public static final String PID = "io.signalbox.config.yaml";

    private static final Logger LOG = LoggerFactory.getLogger(YamlConfigComponent.class);

    @ObjectClassDefinition(id = PID, name = "Signalbox YAML configuration",
            description = "Applies sidecar-config.yaml files dropped into the watched folders as configurations.")
    public @interface Config {
        @AttributeDefinition(description = "Larger YAML files are rejected, in KiB.")
        int max_file_kb() default 1024;

        @AttributeDefinition(description = "On start, delete the configurations of YAML files that no longer exist.")
        boolean delete_orphans() default true;
    }

    private final BundleContext context;
    private final YamlInstaller installer;
    private volatile Config config;
    private ServiceRegistration<ArtifactInstaller> registration;

    @Activate
    public YamlConfigComponent(Config config, Map<String, Object> properties, BundleContext context,
            @Reference ConfigurationAdmin cm) {
        this.context = context;
        String reason = invalidReason(config, properties);
        if (reason != null) {
            LOG.error("configuration {}{} rejected: {}", PID, fileOf(properties), reason);
            this.installer = null;
            return;
        }
        this.config = config;
        this.installer = new YamlInstaller(cm, maxChars(config));
        if (config.delete_orphans()) {
            installer.deleteOrphans();
        }
        if (context != null) {
            registration = context.registerService(ArtifactInstaller.class, installer, null);
        }
        LOG.info("YAML configuration installer started (max.file.kb={}, delete.orphans={})", config.max_file_kb(),
                config.delete_orphans());
    }

    @Modified
    void modified(Config newConfig, Map<String, Object> properties) {
        String reason = invalidReason(newConfig, properties);
        if (reason != null) {
            LOG.error("configuration {}{} rejected: {}; the previous configuration stays in force", PID,
                    fileOf(properties), reason);
            return;
        }
        if (installer == null) {
            LOG.warn("configuration {} is valid now; the YAML installer starts when its component is restarted", PID);
            return;
        }
        this.config = newConfig;
        installer.maxFileChars(maxChars(newConfig));
        LOG.info("YAML configuration installer: max.file.kb={}, delete.orphans={}", newConfig.max_file_kb(),
                newConfig.delete_orphans());
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
            registration = null;
        }
    }

    /** The installer, or null if the configuration was rejected. */
    YamlInstaller installer() {
        return installer;
    }

    Config config() {
        return config;
    }

    /** Null if the configuration is valid, else the reason. */
    static String invalidReason(Config config, Map<String, Object> properties) {
        String unknown = ConfigKeys.unknownKeysReason(ConfigKeys.keysOf(Config.class), properties);
        if (unknown != null) {
            return unknown;
        }
        try {
            if (config.max_file_kb() < 1 || config.max_file_kb() > 64 * 1024) {
                return "max.file.kb must be between 1 and 65536, not " + config.max_file_kb();
            }
            config.delete_orphans();
        } catch (RuntimeException e) { // a value the converter could not convert
            return "bad value: " + e.getMessage();
        }
        return null;
    }

    private static int maxChars(Config config) {
        return config.max_file_kb() * 1024;
    }

    private static String fileOf(Map<String, Object> properties) {
        Object file = properties.get(BackendNames.FILEINSTALL_FILENAME);
        return file == null ? "" : " (" + file + ")";
    }
}
