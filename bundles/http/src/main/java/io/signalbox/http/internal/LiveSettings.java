package io.signalbox.http.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;

import io.signalbox.api.ConfigCheck;

/**
 * The settings in force of a servlet component that can be reconfigured live, under the one
 * activation policy ({@link ConfigCheck}): a rejected configuration is logged at ERROR and
 * counted; at activation the component is not started, on a modification the settings in force stay.
 *
 * @param <S> the settings record, built and validated once from the typed configuration
 */
final class LiveSettings<S> {
    private static final String WHITEBOARD = "osgi.http.";

    private final Logger log;
    private final String pid;
    private final String what;
    private volatile S settings;

    private LiveSettings(Logger log, String pid, String what, S settings) {
        this.log = log;
        this.pid = pid;
        this.what = what;
        this.settings = settings;
    }

    /**
     * The settings of a component being activated, logged at INFO as {@code <what>: <settings>}.
     *
     * @throws ConfigCheck.Rejected if {@code settings} rejects the configuration (logged and counted)
     */
    static <S> LiveSettings<S> activate(Logger log, String pid, String what, Map<String, ?> properties,
            Supplier<S> settings) {
        S s = ConfigCheck.activate(log, pid, properties, settings);
        log.info("{}: {}", what, s);
        return new LiveSettings<>(log, pid, what, s);
    }

    /** Applies a changed configuration, or logs why it is rejected and keeps the settings in force. */
    void modify(Map<String, ?> properties, Supplier<S> changed) {
        S s = ConfigCheck.modify(log, pid, properties, changed, settings);
        if (s != null) {
            settings = s;
            log.info("{} reconfigured: {}", what, s);
        }
    }

    /** The settings in force. */
    S get() {
        return settings;
    }

    /**
     * The properties an operator sets: without the whiteboard's ({@code osgi.http.*}), which a
     * servlet component carries too (the framework's own are ignored by {@link ConfigCheck}).
     */
    static Map<String, Object> configured(Map<String, ?> properties) {
        Map<String, Object> own = new HashMap<>();
        for (Map.Entry<String, ?> e : properties.entrySet()) {
            if (!e.getKey().startsWith(WHITEBOARD)) {
                own.put(e.getKey(), e.getValue());
            }
        }
        return own;
    }
}
