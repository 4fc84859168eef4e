package io.signalbox.config.yaml.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

class YamlConfigComponentTest {

    private static YamlConfigComponent.Config config(Map<String, Object> props) {
        return Converters.standardConverter().convert(props).to(YamlConfigComponent.Config.class);
    }

    @Test
    void defaultsAreValidAndTheInstallerStarts() {
        Map<String, Object> props = new HashMap<>(Map.of("service.pid", YamlConfigComponent.PID));
        YamlConfigComponent c = new YamlConfigComponent(config(props), props, null, new FakeConfigurationAdmin());
        assertThat(c.installer()).isNotNull();
        assertThat(c.config().max_file_kb()).isEqualTo(1024);
        assertThat(c.config().delete_orphans()).isTrue();
    }

    @Test
    void unknownKeyIsRejectedAndTheInstallerDoesNotStart() {
        Map<String, Object> props = new HashMap<>(Map.of("max.file.kbs", "10"));
        assertThat(YamlConfigComponent.invalidReason(config(props), props))
                .contains("unknown key 'max.file.kbs' (did you mean 'max.file.kb'?)");
        YamlConfigComponent c = new YamlConfigComponent(config(props), props, null, new FakeConfigurationAdmin());
        assertThat(c.installer()).isNull();
    }

    @Test
    void badValuesAreRejected() {
        Map<String, Object> zero = Map.of("max.file.kb", "0");
        assertThat(YamlConfigComponent.invalidReason(config(zero), zero)).contains("max.file.kb must be between");
        Map<String, Object> text = Map.of("max.file.kb", "lots");
        assertThat(YamlConfigComponent.invalidReason(config(text), text)).startsWith("bad value");
    }

    @Test
    void invalidModificationKeepsThePreviousConfiguration() {
        Map<String, Object> props = new HashMap<>();
        YamlConfigComponent c = new YamlConfigComponent(config(props), props, null, new FakeConfigurationAdmin());
        Map<String, Object> bad = Map.of("max.file.kb", "-1");
        c.modified(config(bad), bad);
        assertThat(c.config().max_file_kb()).isEqualTo(1024);
        Map<String, Object> good = Map.of("max.file.kb", "8", "felix.fileinstall.filename", "file:/x.cfg");
        c.modified(config(good), good);
        assertThat(c.config().max_file_kb()).isEqualTo(8);
    }
}
