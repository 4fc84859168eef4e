package io.signalbox.config.yaml.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class YamlMappingTest {

    static final String SEED = String.join("\n",
            "tcp: {host: 127.0.0.1, port: 17000, max_line_length: 65536}",
            "buffers: {batch_size: 100, flush_interval_ms: 5000, queue_capacity: 10000}",
            "backends:",
            "  files: {type: file, path: data/files}",
            "  hooks: {type: webhook, url: \"http://127.0.0.1:9000/ingest\"}",
            "routing:",
            "  file-receiver:",
            "    - {backend: files, enabled: true, priority: 10, filter: {types: [event, metric]}}",
            "  \"queue-*\":",
            "    - {backend: hooks}",
            "  default:",
            "    - {backend: files}",
            "");

    static List<ConfigSpec> parse(String yaml) throws YamlRejectedException {
        return YamlMapping.parse(new StringReader(yaml), "sidecar-config", 1 << 20);
    }

    static String rejection(String yaml) {
        return catchThrowableOfType(YamlRejectedException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void seedShapeMapsToSingletonsNamedBackendsAndOneRoutePerRule() throws Exception {
        List<ConfigSpec> specs = parse(SEED);

        assertThat(specs).extracting(ConfigSpec::pid).containsExactly(
                "io.signalbox.transport.tcp",
                "io.signalbox.correlation",
                "io.signalbox.backend.file~files",
                "io.signalbox.backend.webhook~hooks",
                "io.signalbox.route~sidecar-config.file-receiver.0",
                "io.signalbox.route~sidecar-config.queue-_.0",
                "io.signalbox.route~sidecar-config.default.0");
        assertThat(specs.get(0).properties()).containsExactly(
                Map.entry("host", "127.0.0.1"), Map.entry("port", 17000), Map.entry("max.line.length", 65536));
        assertThat(specs.get(0).isSingleton()).isTrue();
        assertThat(specs.get(1).properties()).containsExactly(Map.entry("batch.size", 100),
                Map.entry("flush.interval.ms", 5000), Map.entry("queue.capacity", 10000));

        ConfigSpec files = specs.get(2);
        assertThat(files.factoryPid()).isEqualTo("io.signalbox.backend.file");
        assertThat(files.name()).isEqualTo("files");
        assertThat(files.properties()).containsExactly(Map.entry("path", "data/files"));
        assertThat(specs.get(3).properties()).containsExactly(Map.entry("url", "http://127.0.0.1:9000/ingest"));

        ConfigSpec rule = specs.get(4);
        assertThat(rule.factoryPid()).isEqualTo("io.signalbox.route");
        assertThat(rule.name()).isEqualTo("sidecar-config.file-receiver.0");
        assertThat(rule.properties()).containsOnlyKeys("source", "backends", "enabled", "priority", "types");
        assertThat(rule.properties().get("source")).isEqualTo("file-receiver");
        assertThat((String[]) rule.properties().get("backends")).containsExactly("files");
        assertThat(rule.properties().get("enabled")).isEqualTo(true);
        assertThat(rule.properties().get("priority")).isEqualTo(10);
        assertThat((String[]) rule.properties().get("types")).containsExactly("event", "metric");

        assertThat(specs.get(5).properties()).containsOnlyKeys("source", "backends");
        assertThat(specs.get(5).properties().get("source")).isEqualTo("queue-*");
        assertThat(specs.get(6).properties().get("source")).isEqualTo("default");
    }

    @Test
    void shippedExampleFileIsAccepted() throws Exception {
        Path example = Path.of("../../examples/sidecar-config.yaml");
        assertThat(example).isRegularFile();
        List<ConfigSpec> specs;
        try (var reader = Files.newBufferedReader(example, StandardCharsets.UTF_8)) {
            specs = YamlMapping.parse(reader, "sidecar-config", 1 << 20);
        }
        assertThat(specs).extracting(ConfigSpec::pid).contains("io.signalbox.transport.tcp",
                "io.signalbox.correlation", "io.signalbox.backend.file~archive", "io.signalbox.backend.webhook~hooks",
                "io.signalbox.route~sidecar-config.file-receiver.0", "io.signalbox.route~sidecar-config.default.0");
        assertThat(specs.stream().filter(s -> "io.signalbox.route".equals(s.factoryPid()))).hasSize(5);
        assertThat(specs).allSatisfy(s -> assertThat(s.properties()).isNotEmpty());
    }

    @Test
    void listsBecomeArraysAndEveryRuleIndexHasItsOwnRoute() throws Exception {
        List<ConfigSpec> specs = parse(String.join("\n",
                "backends:",
                "  hooks: {type: webhook, headers: [\"A: b\", \"C: d\"], ports: [1, 2], gzip: true, ratio: 0.5}",
                "routing:",
                "  billing:",
                "    - {backend: hooks}",
                "    - {backend: files, filter: {types: []}}",
                ""));
        Map<String, Object> hooks = specs.get(0).properties();
        assertThat((String[]) hooks.get("headers")).containsExactly("A: b", "C: d");
        assertThat((Integer[]) hooks.get("ports")).containsExactly(1, 2);
        assertThat(hooks.get("gzip")).isEqualTo(true);
        assertThat(hooks.get("ratio")).isEqualTo(0.5);
        assertThat(specs).extracting(ConfigSpec::name).containsExactly("hooks", "sidecar-config.billing.0",
                "sidecar-config.billing.1");
        assertThat((String[]) specs.get(2).properties().get("types")).isEmpty();
    }

    @Test
    void sourcesThatSanitiseAlikeStillGetDistinctRouteNames() throws Exception {
        List<ConfigSpec> specs = parse("routing:\n  \"queue-*\": [{backend: a}]\n  \"queue-?\": [{backend: b}]\n");
        assertThat(specs).extracting(ConfigSpec::name).doesNotHaveDuplicates().hasSize(2);
    }

    @Test
    void emptyFileMeansNoConfigurations() throws Exception {
        assertThat(parse("")).isEmpty();
        assertThat(parse("# only a comment\n")).isEmpty();
    }

    @Test
    void unknownTopLevelSectionIsRejectedWithLineColumnAndSuggestion() {
        String reason = rejection("tcp: {port: 1}\ntpc: {port: 2}\n");
        assertThat(reason).contains("line 2, column 1").contains("'tpc'").contains("did you mean 'tcp'?");
    }

    static Stream<Arguments> badRoutingRules() {
        return Stream.of(
                arguments("a rule that is not a map", "routing:\n  billing:\n    - files\n",
                        "line 3, column 7", "routing 'billing' rule 0 must be a map"),
                arguments("rules that are not a list", "routing:\n  billing: {backend: files}\n",
                        "line 2, column 12", "must be a list of rules"),
                arguments("a rule without backend", "routing:\n  default:\n    - {enabled: true}\n",
                        "line 3", "has no 'backend'"),
                arguments("types that are not a list",
                        "routing:\n  default:\n    - {backend: files, filter: {types: event}}\n",
                        "line 3, column 40", "filter.types must be a list"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRoutingRules")
    void badRoutingRulesAreRejectedWithTheirPosition(String what, String yaml, String position, String problem) {
        assertThat(rejection(yaml)).contains(position).contains(problem);
    }

    @Test
    void unknownMessageTypeIsRejectedWithTheKnownOnes() {
        assertThat(rejection("routing:\n  default:\n    - {backend: files, filter: {types: [event, metrics]}}\n"))
                .contains("line 3, column 48").contains("'metrics' is not a message type")
                .contains("event, metric, progress");
    }

    @Test
    void unknownRuleAndFilterKeysAreRejectedWithSuggestions() {
        assertThat(rejection("routing:\n  default:\n    - {backends: files}\n"))
                .contains("unknown key 'backends' (did you mean 'backend'?)");
        assertThat(rejection("routing:\n  default:\n    - {backend: files, filter: {type: [event]}}\n"))
                .contains("unknown key 'type' (did you mean 'types'?)");
    }

    @Test
    void wrongValueTypesInRulesAreRejected() {
        assertThat(rejection("routing:\n  a:\n    - {backend: files, enabled: yes-please, priority: high}\n"))
                .contains("enabled must be true or false").contains("priority must be a whole number");
    }

    @Test
    void backendWithoutTypeOrWithBadShapeIsRejected() {
        assertThat(rejection("backends:\n  files: {path: data/files}\n")).contains("line 2").contains("has no 'type'");
        assertThat(rejection("backends:\n  files: file\n")).contains("must be a map of settings");
        assertThat(rejection("backends:\n  files: {type: File-Backend}\n")).contains("is not a backend kind");
        assertThat(rejection("backends:\n  files: {type: file, nested: {a: 1}}\n")).contains("not a map");
    }

    @Test
    void sectionThatIsNotAMapIsRejected() {
        assertThat(rejection("tcp: 17000\n")).contains("line 1, column 6").contains("tcp must be a map");
        assertThat(rejection("- tcp\n")).contains("the file must be a map");
    }

    @Test
    void duplicateKeysAreRejected() {
        assertThat(rejection("tcp: {port: 1}\ntcp: {port: 2}\n")).contains("line 2").contains("given twice");
        assertThat(rejection("tcp: {max_line_length: 1, max.line.length: 2}\n")).contains("given twice");
    }

    @Test
    void invalidYamlIsRejectedWithItsPosition() {
        assertThat(rejection("tcp:\n  port: [1, 2\n")).contains("not valid YAML").containsPattern("line \\d+, column \\d+");
    }

    @Test
    void javaTypeTagsAreNotConstructed() {
        assertThat(rejection("tcp: {host: !!javax.script.ScriptEngineManager [!!java.net.URL [\"http://x/\"]]}\n"))
                .contains("line 1, column 13");
        assertThat(rejection("tcp: {host: !!java.lang.ProcessBuilder x}\n")).contains("line 1, column 13");
        assertThat(rejection("tcp: {host: !custom x}\n")).contains("tcp host").contains("!custom");
    }

    @Test
    void emptyValuesAndHugeNumbersAreRejected() {
        assertThat(rejection("tcp: {host: }\n")).contains("tcp host has no value");
        assertThat(rejection("tcp: {port: 123456789012345678901234567890}\n")).contains("too large");
    }

    @Test
    void everyProblemOfAFileIsReportedTogether() {
        YamlRejectedException e = catchThrowableOfType(YamlRejectedException.class, () -> parse(
                "tpc: {}\nrouting:\n  a: [{enabled: true}]\n  b: [{backend: x, filter: {types: [nope]}}]\n"));
        assertThat(e.problems()).hasSize(3);
    }

    @Test
    void aBareSectionConfiguresTheComponentWithItsDefaults() throws Exception {
        List<ConfigSpec> specs = parse("tcp:\n");
        assertThat(specs).singleElement().satisfies(s -> {
            assertThat(s.pid()).isEqualTo("io.signalbox.transport.tcp");
            assertThat(s.properties()).isEmpty();
        });
    }

    @Test
    void tooLongTextIsRejected() {
        assertThatThrownBy(() -> YamlMapping.parse(new StringReader("tcp: {host: " + "x".repeat(5000) + "}\n"),
                "s", 1000)).isInstanceOf(YamlRejectedException.class);
    }

    @Test
    void sanitiseKeepsNameCharactersOnly() throws IOException {
        assertThat(YamlMapping.sanitise("queue-*")).isEqualTo("queue-_");
        assertThat(YamlMapping.sanitise("a b/c.d_e")).isEqualTo("a_b_c.d_e");
    }
}
