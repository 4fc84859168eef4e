package io.signalbox.alerting.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.Vector;

class RuleStateTest {
    private static final Map<String, String> WEB = Map.of("__name__", "cpu_usage", "source", "web");

    private static RuleState rule(long forMs) {
        return new RuleState(new Rule("f.rules.yml", "g", 0, "HighCpu", "cpu_usage > 80", Parser.parse("cpu_usage > 80"),
                forMs, Map.of("severity", "critical"), Map.of("summary", "{{ $labels.source }} at {{ $value }}"),
                null));
    }

    private static Vector v(double value) {
        return new Vector(List.of(new Sample(WEB, value)));
    }

    private static final Vector NONE = new Vector(List.of());

    @Test
    void withoutForAnAlertFiresAtOnceAndResolvesOnceWithOneTransitionEach() {
        RuleState r = rule(0);
        assertThat(r.apply(v(95), 1000)).singleElement().satisfies(t -> {
            assertThat(t.from() + ">" + t.to()).isEqualTo("inactive>firing");
            assertThat(t.alert().labels).isEqualTo(Map.of("alertname", "HighCpu", "severity", "critical", "source", "web"));
            assertThat(t.alert().annotations).isEqualTo(Map.of("summary", "web at 95"));
        });
        assertThat(r.apply(v(96), 2000)).as("still firing: no new notification").isEmpty();
        assertThat(r.state()).isEqualTo("firing");
        assertThat(r.apply(NONE, 3000)).singleElement().satisfies(t -> assertThat(t.to()).isEqualTo("resolved"));
        assertThat(r.apply(NONE, 4000)).isEmpty();
        assertThat(r.state()).isEqualTo("inactive");
        assertThat(r.apply(NONE, 4000 + RuleState.RESOLVED_RETENTION_MS + 1)).isEmpty();
        assertThat(r.alerts).isEmpty();
    }

    @Test
    void withForAnAlertIsPendingUntilForIsOverOrGoesInactive() {
        RuleState r = rule(60_000);
        assertThat(r.apply(v(95), 0)).extracting(RuleState.Transition::to).containsExactly("pending");
        assertThat(r.nextForDeadline()).isEqualTo(60_000);
        assertThat(r.apply(v(95), 59_999)).isEmpty();
        assertThat(r.apply(v(95), 60_000)).extracting(t -> t.from() + ">" + t.to()).containsExactly("pending>firing");
        RuleState q = rule(60_000);
        q.apply(v(95), 0);
        assertThat(q.apply(NONE, 10_000)).extracting(t -> t.from() + ">" + t.to()).containsExactly("pending>inactive");
        assertThat(q.alerts).isEmpty();
    }

    @Test
    void aFailedEvaluationKeepsTheAlertsAndReportsTheError() {
        RuleState r = rule(0);
        r.apply(v(95), 0);
        r.failed("boom", 1);
        assertThat(r.health()).isEqualTo("err");
        assertThat(r.state()).isEqualTo("firing");
        r.apply(v(95), 2);
        assertThat(r.health()).isEqualTo("ok");
    }

    @Test
    void stateSurvivesARestartThroughTheStateFile(@TempDir Path dir) throws Exception {
        RuleState r = rule(60_000);
        r.apply(v(95), 5_000);
        new StateFile(dir).save(List.of(r));
        Map<String, List<Alert>> loaded = new StateFile(dir).load();
        RuleState again = rule(60_000);
        loaded.get(again.rule.key()).forEach(a -> again.alerts.put(a.labels, a));
        assertThat(again.state()).isEqualTo("pending");
        assertThat(again.apply(v(95), 65_000)).as("the for clock kept its start").extracting(RuleState.Transition::to)
                .containsExactly("firing");
    }

    @Test
    void templatesExpandValueAndLabels() {
        assertThat(Templates.expand("{{ $value }} / {{ .Value }} / {{$labels.source}} / {{ .Labels.x }} / {{ $value | humanize }} / {{ other }}",
                Map.of("source", "web"), 1234567.0)).isEqualTo("1234567 / 1234567 / web /  / 1.235M / {{ other }}");
        assertThat(Templates.format(85.5)).isEqualTo("85.5");
    }
}
