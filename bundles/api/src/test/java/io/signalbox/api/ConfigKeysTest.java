package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ConfigKeysTest {

    @interface Config {
        String path();

        int rotate_size_mb();

        String fsync();

        boolean compress$_$rotated();

        String with__underscore();
    }

    @Test
    void keysFollowTheDeclarativeServicesNameMapping() {
        assertThat(ConfigKeys.keysOf(Config.class))
                .containsExactlyInAnyOrder("path", "rotate.size.mb", "fsync", "compress-rotated", "with_underscore");
    }

    @Test
    void frameworkAndFileinstallKeysAreNeverUnknown() {
        Set<String> known = ConfigKeys.keysOf(Config.class);
        Map<String, Object> props = Map.of("path", "x", "service.pid", "p", "service.factoryPid", "f",
                "felix.fileinstall.filename", "file:/etc/x.cfg", "component.name", "c", ".secret", "s");
        assertThat(ConfigKeys.unknown(known, props)).isEmpty();
        assertThat(ConfigKeys.unknownKeysReason(known, props)).isNull();
    }

    @Test
    void aTypoIsReportedWithTheNearestKnownKey() {
        Set<String> known = ConfigKeys.keysOf(Config.class);
        String reason = ConfigKeys.unknownKeysReason(known, Map.of("fsnyc", "batch", "colour", "red", "path", "x"));
        assertThat(reason).startsWith("unknown keys 'colour', 'fsnyc' (did you mean 'fsync'?); known keys: ")
                .contains("rotate.size.mb");
    }
}
