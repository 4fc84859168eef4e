package io.signalbox.alerting.internal;

import java.util.Map;
import java.util.Set;

import io.signalbox.metrics.promql.Expr;

/**
 * One alerting rule of a rule file, validated.
 *
 * @param file        the rule file's name (e.g. {@code seed004.rules.yml})
 * @param group       its group's name
 * @param intervalMs  the group's evaluation interval on the timer (0: the configured default)
 * @param name        {@code alert}
 * @param query       {@code expr} as written
 * @param expr        {@code expr} parsed
 * @param forMs       {@code for} (0: fires at the first evaluation that returns it)
 * @param labels      {@code labels}
 * @param annotations {@code annotations} (templates {@code {{ $value }}}, {@code {{ $labels.x }}})
 * @param metricNames the metric names the expression reads, or {@code null} if a selector names none
 *                    (then every arriving sample re-evaluates it)
 */
record Rule(String file, String group, long intervalMs, String name, String query, Expr expr, long forMs,
        Map<String, String> labels, Map<String, String> annotations, Set<String> metricNames) {

    /** What identifies a rule across reloads and restarts (its state is carried over). */
    String key() {
        return file + "\u0000" + group + "\u0000" + name + "\u0000" + query;
    }
}
