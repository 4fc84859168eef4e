package io.signalbox.alerting.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of alerting, PID {@value AlertingComponent#PID} (etc/io.signalbox.alerting.cfg). */
@ObjectClassDefinition(name = "Signalbox alerting",
        description = "Prometheus alerting rules from etc/*.rules.yml, evaluated as samples arrive; events and Alertmanager.")
public @interface AlertingConfig {
    @AttributeDefinition(description = "Timer evaluation interval of a group without its own 'interval', in ms (rules are also evaluated whenever a sample of a metric they read arrives, and when a pending alert's 'for' is over).", required = false)
    long evaluation_interval_ms() default 10000;

    @AttributeDefinition(description = "Folder of the alert state file (state.json): pending and firing alerts survive a restart.", required = false)
    String state_path() default "data/alerting";

    @AttributeDefinition(description = "Prometheus Alertmanager base URL (e.g. http://127.0.0.1:9093); empty: none. Alerts go to <url>/api/v2/alerts.", required = false)
    String alertmanager_url() default "";

    @AttributeDefinition(description = "Firing (and, for 15 min, resolved) alerts are resent to Alertmanager this often, in ms (Prometheus' rules.alert.resend-delay).", required = false)
    long alertmanager_resend_delay_ms() default 60000;

    @AttributeDefinition(description = "Timeout of one request to Alertmanager, in ms.", required = false)
    long alertmanager_timeout_ms() default 10000;

    @AttributeDefinition(description = "How long arriving samples are kept in memory for evaluation until the store has committed them, in ms.", required = false)
    long recent_retention_ms() default 60000;

    @AttributeDefinition(description = "Most arriving samples kept in memory (the oldest go first; they are read from the store).", required = false)
    long recent_max_samples() default 200000;
}
