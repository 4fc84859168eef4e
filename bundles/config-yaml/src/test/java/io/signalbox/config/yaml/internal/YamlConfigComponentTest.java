package io.signalbox.config.yaml.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.ConfigCheck;

class YamlConfigComponentTest {

    private static YamlConfigComponent.Config config(Map<String, Object> props) {
        return Converters.standardConverter().convert(props).to(YamlConfigComponent.Config.class);
    }

    private static YamlConfigComponent start(Map<String, Object> props) {
        return new YamlConfigComponent(config(props), props, null, new FakeConfigurationAdmin());
    }

    private static YamlConfigComponent.Settings settings(Map<String, Object> props) {
        return YamlConfigComponent.Settings.of(config(props), props);
    }

    @Test
    void defaultsAreValidAndTheInstallerStarts() {
        YamlConfigComponent c = start(new HashMap<>(Map.of("service.pid", YamlConfigComponent.PID)));
        assertThat(c.installer()).isNotNull();
        assertThat(c.settings().maxFileKb()).isEqualTo(1024);
        assertThat(c.settings().deleteOrphans()).isTrue();
    }

    @Test
    void unknownKeyIsRejectedCountedAndTheComponentDoesNotStart() {
        long rejected = ConfigCheck.rejectionCount();
        Map<String, Object> props = Map.of("max.file.kbs", "10", "felix.fileinstall.filename", "file:/x/etc/y.cfg");

        assertThatThrownBy(() -> start(props)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("configuration io.signalbox.config.yaml (file:/x/etc/y.cfg) rejected: ")
                .hasMessageContaining("unknown key 'max.file.kbs' (did you mean 'max.file.kb'?)");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejected + 1);
    }

    @Test
    void badValuesAreRejected() {
        assertThatThrownBy(() -> settings(Map.of("max.file.kb", "0"))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessage("'max.file.kb' must be 1..65536, is 0");
        assertThatThrownBy(() -> settings(Map.of("max.file.kb", "lots"))).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageStartingWith("'max.file.kb' = 'lots' is not a valid int");
    }

    @Test
    void invalidModificationKeepsThePreviousConfiguration() {
        YamlConfigComponent c = start(new HashMap<>());
        long rejected = ConfigCheck.rejectionCount();
        Map<String, Object> bad = Map.of("max.file.kb", "-1");
        c.modified(config(bad), bad);
        assertThat(c.settings().maxFileKb()).isEqualTo(1024);
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(rejected + 1);
        Map<String, Object> good = Map.of("max.file.kb", "8", "felix.fileinstall.filename", "file:/x.cfg");
        c.modified(config(good), good);
        assertThat(c.settings().maxFileKb()).isEqualTo(8);
    }
}
