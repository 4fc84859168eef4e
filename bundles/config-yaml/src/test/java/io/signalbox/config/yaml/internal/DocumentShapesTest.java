package io.signalbox.config.yaml.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The {@code sidecar-config.yaml} blocks of the design documents (seeds 000, 001, 002), copied
 * verbatim into docs/design-documents/, and every key they use.
 */
class DocumentShapesTest {
    private final List<String> notes = new ArrayList<>();

    private List<ConfigSpec> document(String name) throws IOException, YamlRejectedException {
        return parse(Files.readString(Path.of("../../docs/design-documents/" + name), StandardCharsets.UTF_8));
    }

    private List<ConfigSpec> parse(String yaml) throws YamlRejectedException {
        return YamlMapping.parse(new StringReader(yaml), "sidecar-config", 1 << 20, notes);
    }

    private static ConfigSpec spec(List<ConfigSpec> specs, String pid) {
        return specs.stream().filter(s -> s.pid().equals(pid)).findFirst()
                .orElseThrow(() -> new AssertionError(pid + " not in " + specs));
    }

    private String rejection(String yaml) {
        return catchThrowableOfType(YamlRejectedException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void document000NestedConfigTimescaledbAndSecondsAreMapped() throws Exception {
        List<ConfigSpec> specs = document("000-sidecar-config.yaml");
        assertThat(specs).extracting(ConfigSpec::pid).containsExactly(
                "io.signalbox.transport.tcp",
                "io.signalbox.correlation",
                "io.signalbox.backend.file~filesystem",
                "io.signalbox.backend.postgres~timescaledb",
                "io.signalbox.route~sidecar-config.queue-service.0",
                "io.signalbox.route~sidecar-config.queue-service.1",
                "io.signalbox.route~sidecar-config.default.0");
        assertThat(specs.get(0).properties()).containsExactly(Map.entry("host", "127.0.0.1"), Map.entry("port", 17000),
                Map.entry("max.connections", 100));
        assertThat(specs.get(1).properties()).containsExactly(Map.entry("flush.interval.ms", 5000L),
                Map.entry("batch.size", 100));
        // an absolute base_path is the operator's explicit choice: allowed outside the distribution folder
        assertThat(specs.get(2).properties()).containsExactly(Map.entry("path", "/var/log/monitoring"),
                Map.entry("allow.absolute.path", true), Map.entry("path.template", "{source}/{date}.jsonl"));
        assertThat(specs.get(3).properties()).containsExactly(Map.entry("url", "postgresql://..."),
                Map.entry("events.table", "monitoring_events"));
        ConfigSpec rule = specs.get(4);
        assertThat(rule.properties().get("source")).isEqualTo("queue-service");
        assertThat((String[]) rule.properties().get("backends")).containsExactly("timescaledb");
        assertThat((String[]) rule.properties().get("types")).containsExactly("metric", "event");
        assertThat(rule.properties().get("priority")).isEqualTo(1);
        assertThat((String[]) specs.get(6).properties().get("backends")).containsExactly("filesystem");
        assertThat(notes).isEmpty();
    }

    @Test
    void document001FlatBackendsAndRuleConfigsBecomeDerivedBackends() throws Exception {
        List<ConfigSpec> specs = document("001-sidecar-config.yaml");
        assertThat(specs).extracting(ConfigSpec::pid).containsExactly(
                "io.signalbox.transport.tcp",
                "io.signalbox.backend.postgres~timescaledb",
                "io.signalbox.backend.file~nfs-file.queue-service.1",
                "io.signalbox.backend.s3~s3.config-service.0",
                "io.signalbox.backend.cloudwatch~cloudwatch.default.0",
                "io.signalbox.route~sidecar-config.queue-service.0",
                "io.signalbox.route~sidecar-config.queue-service.1",
                "io.signalbox.route~sidecar-config.config-service.0",
                "io.signalbox.route~sidecar-config.default.0");
        assertThat(spec(specs, "io.signalbox.backend.postgres~timescaledb").properties()).containsExactly(
                Map.entry("url", "postgresql://user:pass@localhost:5432/monitoring"),
                Map.entry("events.table", "monitoring_events"));
        // the rule's path is the one file: folder and a template without placeholders
        assertThat(spec(specs, "io.signalbox.backend.file~nfs-file.queue-service.1").properties()).containsOnly(
                Map.entry("path", "/mnt/nas/logs"), Map.entry("path.template", "queue-service.jsonl"),
                Map.entry("allow.absolute.path", true));
        assertThat(spec(specs, "io.signalbox.backend.s3~s3.config-service.0").properties()).containsExactly(
                Map.entry("region", "us-east-1"), Map.entry("bucket", "monitoring-logs"),
                Map.entry("prefix", "config-service/"));
        assertThat(spec(specs, "io.signalbox.backend.cloudwatch~cloudwatch.default.0").properties()).containsExactly(
                Map.entry("region", "us-east-1"), Map.entry("log.group.template", "/app/monitoring"),
                Map.entry("log.stream.template", "{source}"));
        ConfigSpec nfsRule = spec(specs, "io.signalbox.route~sidecar-config.queue-service.1");
        assertThat((String[]) nfsRule.properties().get("backends")).containsExactly("nfs-file.queue-service.1");
        assertThat((String[]) nfsRule.properties().get("types")).containsExactly("event");
        assertThat((String[]) spec(specs, "io.signalbox.route~sidecar-config.queue-service.0").properties()
                .get("backends")).containsExactly("timescaledb");
        assertThat((String[]) spec(specs, "io.signalbox.route~sidecar-config.default.0").properties().get("backends"))
                .containsExactly("cloudwatch.default.0");
        assertThat(spec(specs, "io.signalbox.route~sidecar-config.default.0").properties()).doesNotContainKey("config");
    }

    @Test
    void document002SidecarWrapperIsMappedAndItsMeaninglessKeysAreIgnoredWithOneLineEach() throws Exception {
        List<ConfigSpec> specs = document("002-sidecar-config.yaml");
        assertThat(specs).extracting(ConfigSpec::pid).containsExactly("io.signalbox.transport.tcp",
                "io.signalbox.correlation", "io.signalbox.http");
        assertThat(specs.get(0).properties()).containsExactly(Map.entry("host", "127.0.0.1"), Map.entry("port", 17000),
                Map.entry("max.connections", 100), Map.entry("idle.timeout.seconds", 30));
        assertThat(specs.get(1).properties()).containsExactly(Map.entry("queue.capacity", 10000),
                Map.entry("flush.interval.ms", 5000L), Map.entry("batch.size", 100));
        assertThat(specs.get(2).properties()).containsExactly(Map.entry("port", 17001));
        assertThat(notes).hasSize(6);
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("line 7: tcp.keepalive ignored: "));
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("line 11: buffers.per_source_buffer ignored: "));
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("line 16: performance.worker_threads ignored: ")
                .contains("io.threads", "channel.threads"));
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("line 17: performance.max_memory_mb ignored: ")
                .contains("-Xmx"));
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("line 18: performance.gc_interval ignored: "));
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("line 22: health.health_check_interval ignored: "));
    }

    /** Issue 14's quote of 002 §3 (option 3), verbatim. */
    @Test
    void document002TlsAndSharedSecretOfTheIssueMapOntoTheTcpTransport() throws Exception {
        List<ConfigSpec> specs = parse("""
                tcp:
                  host: "0.0.0.0"
                  port: 17000
                  tls: {enabled: true, cert: /etc/monitoring/cert.pem, key: /etc/monitoring/key.pem}
                  auth: {type: shared_secret, secret: "${MONITORING_SECRET}"}
                """);
        assertThat(spec(specs, "io.signalbox.transport.tcp").properties()).containsExactly(Map.entry("host", "0.0.0.0"),
                Map.entry("port", 17000), Map.entry("tls.enabled", true), Map.entry("tls.cert", "/etc/monitoring/cert.pem"),
                Map.entry("tls.key", "/etc/monitoring/key.pem"), Map.entry("auth.secret", "${env:MONITORING_SECRET}"));
    }

    /** 002 §3 option 3 as the design document writes it (block style), verbatim. */
    @Test
    void document002TlsAndAuthInBlockStyleMapTheSame() throws Exception {
        List<ConfigSpec> specs = parse("""
                tcp:
                  host: "0.0.0.0"
                  port: 17000
                  tls:
                    enabled: true
                    cert: /etc/monitoring/cert.pem
                    key: /etc/monitoring/key.pem
                  auth:
                    type: shared_secret
                    secret: "${MONITORING_SECRET}"
                """);
        assertThat(spec(specs, "io.signalbox.transport.tcp").properties()).contains(Map.entry("tls.enabled", true),
                Map.entry("auth.secret", "${env:MONITORING_SECRET}"));
        assertThat(rejection("tcp:\n  auth: {type: oauth, secret: x}\n")).contains("auth.type must be shared_secret");
    }

    @Test
    void unknownKeysInTheDocumentsSectionsAreStillRejectedWithLineAndColumn() {
        assertThat(rejection("sidecar:\n  performance:\n    worker_thread: 4\n"))
                .contains("line 3, column 5").contains("unknown key 'worker_thread'")
                .contains("did you mean 'worker_threads'?");
        assertThat(rejection("sidecar:\n  health:\n    metrics_prot: 17001\n"))
                .contains("line 3, column 5").contains("did you mean 'metrics_port'?");
        assertThat(rejection("sidecar:\n  tpc: {port: 1}\n")).contains("line 2, column 3").contains("'tpc'");
        assertThat(rejection("sidecar:\n  tcp: {port: 1}\ntcp: {port: 2}\n"))
                .contains("given both inside 'sidecar:' and at the top level");
        assertThat(rejection("routing:\n  a:\n    - {backend: b, confg: {path: /x}}\n"))
                .contains("line 3, column 20").contains("did you mean 'config'?");
        // a rejected file reports no notes: nothing of it is in force
        assertThat(notes).isEmpty();
    }

    @Test
    void documentValuesAreCheckedWhereTheyAreTranslated() {
        assertThat(rejection("buffers: {flush_interval: soon}\n")).contains("line 1, column 27")
                .contains("flush_interval must be a number of seconds");
        assertThat(rejection("sidecar:\n  health: {metrics_port: http}\n")).contains("metrics_port must be a whole number");
        assertThat(rejection("backends:\n  f: {type: filesystem, enabled: maybe}\n")).contains("enabled must be true or false");
        assertThat(rejection("backends:\n  f: {type: filesystem, config: {rotate_daily: daily}}\n"))
                .contains("rotate_daily must be true or false");
        assertThat(rejection("backends:\n  f: {type: filesystem, base_path: /a, config: {path: /b}}\n"))
                .contains("given twice (as 'path'");
    }

    @Test
    void fractionalFlushIntervalAndOneFilePerSourceWithoutDailyRotation() throws Exception {
        List<ConfigSpec> specs = parse("buffers: {flush_interval: 0.25}\nbackends:\n"
                + "  f: {type: filesystem, config: {base_path: logs, rotate_daily: false}}\n");
        assertThat(specs.get(0).properties()).containsExactly(Map.entry("flush.interval.ms", 250L));
        assertThat(specs.get(1).properties()).containsExactly(Map.entry("path", "logs"),
                Map.entry("path.template", "{source}.jsonl"));
    }

    @Test
    void aDisabledBackendCreatesNothingAndItsRulesAreSkippedWithANote() throws Exception {
        List<ConfigSpec> specs = parse(String.join("\n",
                "backends:",
                "  timescaledb: {type: timescaledb, enabled: false, config: {connection_string: \"postgresql://h/db\"}}",
                "  filesystem: {type: filesystem, enabled: true, config: {base_path: /tmp/x}}",
                "routing:",
                "  queue-service:",
                "    - {backend: timescaledb}",
                "    - {backend: filesystem}",
                ""));
        assertThat(specs).extracting(ConfigSpec::pid).containsExactly("io.signalbox.backend.file~filesystem",
                "io.signalbox.route~sidecar-config.queue-service.1");
        assertThat(notes).containsExactly(
                "line 2: backend 'timescaledb' is disabled (enabled: false): not created, and rules naming it are skipped",
                "line 6: routing 'queue-service' rule 0 skipped: backend 'timescaledb' is disabled (enabled: false)");
    }

    @Test
    void aRuleConfigNeedsItsBackendInTheSameFileAndIsTranslatedForItsKind() throws Exception {
        assertThat(rejection("routing:\n  a:\n    - {backend: elsewhere, config: {path: /x/y.jsonl}}\n"))
                .contains("line 3, column 17").contains("must be defined in this file's backends section");
        assertThat(rejection("backends:\n  f: {type: filesystem, base_path: /a}\nrouting:\n  a:\n"
                + "    - {backend: f, config: {path: /x/}}\n")).contains("path must be the file");
        List<ConfigSpec> specs = parse("backends:\n  pg: {type: postgres, connection_string: \"postgresql://h/db\"}\n"
                + "  f: {type: filesystem, base_path: /a}\nrouting:\n  \"queue-*\":\n"
                + "    - {backend: pg, config: {table: queue_events}}\n    - {backend: f}\n"
                + "    - {backend: f, config: {path: relative.jsonl}}\n");
        assertThat(specs).extracting(ConfigSpec::pid).containsExactly("io.signalbox.backend.file~f",
                "io.signalbox.backend.postgres~pg.queue-_.0", "io.signalbox.backend.file~f.queue-_.2",
                "io.signalbox.route~sidecar-config.queue-_.0", "io.signalbox.route~sidecar-config.queue-_.1",
                "io.signalbox.route~sidecar-config.queue-_.2");
        assertThat(specs.get(1).properties()).containsExactly(Map.entry("url", "postgresql://h/db"),
                Map.entry("events.table", "queue_events"));
        assertThat(specs.get(2).properties()).containsExactly(Map.entry("path", "."),
                Map.entry("path.template", "relative.jsonl"));
    }

    @Test
    void backendsWithoutRoutingAreStillCreated() throws Exception {
        assertThat(parse("backends:\n  files: {type: file, path: data/x}\n")).extracting(ConfigSpec::pid)
                .containsExactly("io.signalbox.backend.file~files");
    }
}
