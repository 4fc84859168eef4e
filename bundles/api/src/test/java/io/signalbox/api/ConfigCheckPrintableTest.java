package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class ConfigCheckPrintableTest {
    @Test
    void controlCharactersOfAConfigFileNeverReachTheLogRaw() {
        String m = ConfigCheck.rejection("io.signalbox.x", Map.of(), "unknown keys 'na\u0000me', 'bo\u0007gus', 'a\nINFO forged'");
        assertThat(m).isEqualTo("configuration io.signalbox.x rejected: unknown keys 'na\\u0000me', 'bo\\u0007gus',"
                + " 'a\\u000aINFO forged'");
        assertThat(ConfigCheck.lastRejection().orElseThrow().message()).isEqualTo(m);
        assertThat(ConfigCheck.printable("plain é text")).isEqualTo("plain é text");
    }
}
