package io.signalbox.alerting.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class RuleFilesTest {
    private static final Path SHIPPED = Path.of("../../examples/seed004.rules.yml");

    @Test
    void seed004RulesAreReadWithTheirWindowsThresholdsAndLabels() throws Exception {
        List<Rule> rules = RuleFiles.parse("seed004.rules.yml", Files.readString(SHIPPED));
        assertThat(rules).extracting(Rule::name).containsExactly("HighCpuUsage", "HighMemoryUsage", "HighErrorRate");
        assertThat(rules).extracting(Rule::query).containsExactly("avg_over_time(cpu_usage[60s]) > 80",
                "avg_over_time(memory_usage[60s]) > 90", "avg_over_time(error_rate[30s]) > 5");
        assertThat(rules.get(1).labels()).isEqualTo(Map.of("severity", "critical"));
        assertThat(rules.get(0).metricNames()).isEqualTo(Set.of("cpu_usage"));
    }

    @Test
    void promtoolAcceptsEveryShippedRuleFile() throws Exception {
        Process p = new ProcessBuilder("promtool", "check", "rules", SHIPPED.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("SUCCESS: 3 rules found");
    }

    @Test
    void forLabelsAnnotationsAndGroupIntervalAreRead() throws Exception {
        List<Rule> r = RuleFiles.parse("a.rules.yml", """
                groups:
                  - name: g
                    interval: 30s
                    rules:
                      - alert: A
                        expr: sum by (source) (rate(requests_total[5m])) > 10
                        for: 1m30s
                        labels: {team: web}
                        annotations: {summary: "x {{ $value }}"}
                """);
        assertThat(r).singleElement().satisfies(x -> {
            assertThat(x.forMs()).isEqualTo(90_000);
            assertThat(x.intervalMs()).isEqualTo(30_000);
            assertThat(x.labels()).containsEntry("team", "web");
            assertThat(x.metricNames()).containsExactly("requests_total");
        });
        assertThat(RuleFiles.parse("e.rules.yml", "")).isEmpty();
        assertThat(RuleFiles.parse("e.rules.yml", "groups: []\n")).isEmpty();
    }

    @Test
    void invalidFilesAreRejectedWithTheLineAndReason() {
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: cpu >\n"))
                .isInstanceOf(RuleFileException.class).hasMessageStartingWith("line 5: expr \"cpu >\" of alert A:");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        fore: 5m\n"))
                .hasMessageStartingWith("line 6: field fore not found in a rule");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n  - name: g\n"))
                .hasMessageContaining("line 3: groupname: \"g\" is repeated");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: x\n"))
                .hasMessageContaining("recording rules");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        for: 5 minutes\n"))
                .hasMessageStartingWith("line 6: for: not a duration");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        labels: {bad-name: v}\n"))
                .hasMessageContaining("invalid label name: \"bad-name\"");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups: [\n")).hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> RuleFiles.parse("x", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5m]) and y\n"))
                .isInstanceOf(RuleFileException.class);
    }

    @Test
    void onlyRuleFilesAreOurs() {
        assertThat(RuleFiles.isRuleFile("seed004.rules.yml")).isTrue();
        assertThat(RuleFiles.isRuleFile("a.RULES.yaml")).isTrue();
        assertThat(RuleFiles.isRuleFile("sidecar-config.yaml")).isFalse();
        assertThat(RuleFiles.isRuleFile(".a.rules.yml")).isFalse();
    }
}
