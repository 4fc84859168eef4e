package io.signalbox.alerting.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.signalbox.metrics.promql.Values.Sample;
import io.signalbox.metrics.promql.Values.Scalar;
import io.signalbox.metrics.promql.Values.Value;
import io.signalbox.metrics.promql.Values.Vector;

/**
 * A rule with its alert instances and health. {@link #apply} is Prometheus' alerting-rule step: every series
 * the expression returns is an alert (labels: the series' without {@code __name__}, the rule's labels, and
 * {@code alertname}); a new one is pending, or firing at once without {@code for}; a pending one fires when
 * it has been returned for {@code for}; one no longer returned goes inactive (pending) or resolved (firing).
 * Used on the evaluation thread only.
 */
final class RuleState {
    /** How long a resolved alert is kept (and resent to Alertmanager), as Prometheus' resolvedRetention. */
    static final long RESOLVED_RETENTION_MS = 15 * 60_000;

    /** A state change of one alert: {@code from}/{@code to} are inactive, pending, firing, resolved. */
    record Transition(RuleState rule, Alert alert, String from, String to, long at) {
    }

    final Rule rule;
    final Map<Map<String, String>, Alert> alerts = new LinkedHashMap<>();
    String lastError;
    long lastEvaluation;
    double evaluationSeconds;

    RuleState(Rule rule) {
        this.rule = rule;
    }

    /** The rule's state: firing if an alert fires, else pending if one is pending, else inactive. */
    String state() {
        String s = "inactive";
        for (Alert a : alerts.values()) {
            if (a.state == Alert.State.FIRING) {
                return "firing";
            }
            if (a.state == Alert.State.PENDING) {
                s = "pending";
            }
        }
        return s;
    }

    String health() {
        return lastError != null ? "err" : lastEvaluation == 0 ? "unknown" : "ok";
    }

    /** Records a failed evaluation: the alerts stay as they are (as in Prometheus). */
    void failed(String error, long now) {
        lastError = error;
        lastEvaluation = now;
    }

    /** Applies an evaluation result at {@code now}; returns the state changes. */
    List<Transition> apply(Value result, long now) {
        List<Sample> samples;
        if (result instanceof Vector v) {
            samples = v.samples();
        } else if (result instanceof Scalar s) {
            samples = List.of(new Sample(Map.of(), s.value()));
        } else {
            failed("the expression returned a range vector; an alerting rule needs an instant vector", now);
            return List.of();
        }
        Map<Map<String, String>, Sample> byLabels = new LinkedHashMap<>();
        for (Sample s : samples) {
            Map<String, String> labels = alertLabels(s);
            if (byLabels.put(labels, s) != null) {
                failed("vector contains metrics with the same labelset after applying alert labels: " + labels, now);
                return List.of();
            }
        }
        lastError = null;
        lastEvaluation = now;
        List<Transition> out = new ArrayList<>();
        Set<Map<String, String>> seen = new HashSet<>();
        for (Map.Entry<Map<String, String>, Sample> e : byLabels.entrySet()) {
            Map<String, String> labels = e.getKey();
            double value = e.getValue().value();
            seen.add(labels);
            Map<String, String> annotations = annotations(e.getValue().labels(), value);
            Alert a = alerts.get(labels);
            if (a != null && a.state != Alert.State.RESOLVED) {
                a.value = value;
                a.annotations = annotations;
                continue;
            }
            a = new Alert(labels, annotations, Alert.State.PENDING, value, now);
            alerts.put(labels, a);
            if (rule.forMs() > 0) {
                out.add(new Transition(this, a, "inactive", "pending", now));
            }
        }
        for (Iterator<Alert> it = alerts.values().iterator(); it.hasNext();) {
            Alert a = it.next();
            if (!seen.contains(a.labels)) {
                if (a.state == Alert.State.PENDING) {
                    it.remove();
                    out.add(new Transition(this, a, "pending", "inactive", now));
                } else if (a.state == Alert.State.FIRING) {
                    a.state = Alert.State.RESOLVED;
                    a.resolvedAt = now;
                    a.sentAt = 0;
                    out.add(new Transition(this, a, "firing", "resolved", now));
                } else if (now - a.resolvedAt > RESOLVED_RETENTION_MS) {
                    it.remove();
                }
            } else if (a.state == Alert.State.PENDING && now - a.activeAt >= rule.forMs()) {
                a.state = Alert.State.FIRING;
                a.firedAt = now;
                a.sentAt = 0;
                out.add(new Transition(this, a, rule.forMs() > 0 ? "pending" : "inactive", "firing", now));
            }
        }
        return out;
    }

    /** The rule is gone (its file changed or was removed): firing alerts resolve, pending ones go inactive. */
    List<Transition> retire(long now) {
        List<Transition> out = new ArrayList<>();
        for (Alert a : alerts.values()) {
            if (a.state == Alert.State.FIRING) {
                a.state = Alert.State.RESOLVED;
                a.resolvedAt = now;
                a.sentAt = 0;
                out.add(new Transition(this, a, "firing", "resolved", now));
            } else if (a.state == Alert.State.PENDING) {
                out.add(new Transition(this, a, "pending", "inactive", now));
            }
        }
        return out;
    }

    /** The earliest time a pending alert's {@code for} is over (Long.MAX_VALUE if none is pending). */
    long nextForDeadline() {
        long t = Long.MAX_VALUE;
        for (Alert a : alerts.values()) {
            if (a.state == Alert.State.PENDING) {
                t = Math.min(t, a.activeAt + rule.forMs());
            }
        }
        return t;
    }

    private Map<String, String> alertLabels(Sample s) {
        TreeMap<String, String> l = new TreeMap<>(s.labels());
        l.remove("__name__");
        for (Map.Entry<String, String> e : rule.labels().entrySet()) {
            l.put(e.getKey(), Templates.expand(e.getValue(), s.labels(), s.value()));
        }
        l.put("alertname", rule.name());
        return Collections.unmodifiableMap(l);
    }

    private Map<String, String> annotations(Map<String, String> seriesLabels, double value) {
        Map<String, String> out = new LinkedHashMap<>();
        rule.annotations().forEach((k, v) -> out.put(k, Templates.expand(v, seriesLabels, value)));
        return Collections.unmodifiableMap(out);
    }
}
