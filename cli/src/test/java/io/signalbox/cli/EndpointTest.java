package io.signalbox.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the CLI looks for the HTTP API. */
class EndpointTest {
    @TempDir
    Path home;

    @Test
    void withoutConfigurationItIsTheDefaultLoopbackPort() {
        assertThat(Endpoint.resolve(Map.of(), home)).isEqualTo(URI.create("http://127.0.0.1:17001"));
    }

    @Test
    void theHostAndPortOfTheHttpConfigurationFileAreUsedPlainOrTyped() throws Exception {
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve(Endpoint.CFG), "# comment\nhost=127.0.0.2\nport=18001\n");
        assertThat(Endpoint.resolve(Map.of(), home)).isEqualTo(URI.create("http://127.0.0.2:18001"));

        Files.writeString(home.resolve(Endpoint.CFG), "host=\"0.0.0.0\"\nport=I\"18002\"\n");
        assertThat(Endpoint.resolve(Map.of(), home)).as("a wildcard host is reached on loopback")
                .isEqualTo(URI.create("http://127.0.0.1:18002"));

        Files.writeString(home.resolve(Endpoint.CFG), "port=${env:HTTP_PORT}\n");
        assertThat(Endpoint.resolve(Map.of(), home)).as("an unresolved placeholder keeps the default")
                .isEqualTo(URI.create("http://127.0.0.1:17001"));
    }

    @Test
    void signalboxHttpOverridesTheFile() throws Exception {
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve(Endpoint.CFG), "port=18001\n");

        assertThat(Endpoint.resolve(Map.of("SIGNALBOX_HTTP", "10.1.2.3:9000"), home))
                .isEqualTo(URI.create("http://10.1.2.3:9000"));
        assertThat(Endpoint.resolve(Map.of("SIGNALBOX_HTTP", "http://localhost:9001/"), home))
                .isEqualTo(URI.create("http://localhost:9001"));
        assertThat(Endpoint.resolve(Map.of("SIGNALBOX_HTTP", "9002"), home)).isEqualTo(URI.create("http://127.0.0.1:9002"));
        assertThat(Endpoint.resolve(Map.of("SIGNALBOX_HTTP", "::1:9003"), home)).isEqualTo(URI.create("http://[::1]:9003"));
    }

    @Test
    void aBadPortIsReportedWithWhereItCameFrom() throws Exception {
        assertThatThrownBy(() -> Endpoint.resolve(Map.of("SIGNALBOX_HTTP", "host:http"), home))
                .hasMessageContaining("SIGNALBOX_HTTP").hasMessageContaining("1..65535");
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve(Endpoint.CFG), "port=70000\n");
        assertThatThrownBy(() -> Endpoint.resolve(Map.of(), home)).hasMessageContaining("io.signalbox.http.cfg");
    }
}
