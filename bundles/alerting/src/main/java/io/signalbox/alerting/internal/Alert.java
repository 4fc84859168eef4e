package io.signalbox.alerting.internal;

import java.util.Map;

/**
 * One alert instance (a rule and the labels of one result series), mutated only on the evaluation thread.
 * States: {@code pending} (the expression returns it, {@code for} not yet over), {@code firing},
 * {@code resolved} (was firing, the expression no longer returns it; kept a while so Alertmanager hears it).
 */
final class Alert {
    enum State {
        PENDING, FIRING, RESOLVED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    final Map<String, String> labels;
    Map<String, String> annotations;
    State state;
    double value;
    /** When the expression first returned it (epoch ms). */
    long activeAt;
    long firedAt;
    long resolvedAt;
    /** When Alertmanager was last sent this alert in its current state; 0 = not yet. */
    long sentAt;

    Alert(Map<String, String> labels, Map<String, String> annotations, State state, double value, long activeAt) {
        this.labels = labels;
        this.annotations = annotations;
        this.state = state;
        this.value = value;
        this.activeAt = activeAt;
    }
}
