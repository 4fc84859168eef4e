package io.signalbox.api;

import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.slf4j.Logger;

/**
 * Everything a backend component does besides building its settings and its backend: names the
 * instance, registers the backend as {@link Backend} and {@link StatsSource} with the same service
 * properties for every kind ({@link BackendNames#serviceProperties}: framework keys, name, kind —
 * never configuration values, which may be secrets), applies a modified configuration (in place,
 * or registered anew under a new name), rejects an invalid one the way {@link ConfigCheck} says,
 * and unregisters and closes the backend on deactivation.
 *
 * <p>Backend components do not use it directly: {@link BackendComponent}, which every backend
 * component extends, runs one per component instance (docs/architecture.md, "Write a backend").
 *
 * @param <S> the validated settings
 * @param <B> the backend
 */
public final class BackendLifecycle<S, B extends BackendLifecycle.Instance<S>> {

    /** A backend that a {@link BackendLifecycle} runs. */
    public interface Instance<S> extends Backend, StatsSource {
        /**
         * Takes valid new settings of the same instance: from the next batch on, or after the
         * batch being written (a backend that holds connections or files replaces them).
         */
        void update(S settings);

        /** Releases what the backend holds; called after it is unregistered. */
        void close();
    }

    /** Makes the backend of instance {@code name}. */
    @FunctionalInterface
    public interface Factory<S, B> {
        B create(String name, S settings);
    }

    private record Resolved<S>(String name, S settings) {
    }

    private final BundleContext context;
    private final String factoryPid;
    private final String kind;
    private final Logger log;
    private final Factory<S, B> factory;
    private final Function<? super S, String> describe;
    private B backend;
    private String name;
    private ServiceRegistration<?> registration;

    /**
     * @param factoryPid the component's factory PID, e.g. {@code io.signalbox.backend.webhook}
     * @param kind       the {@value Backend#KIND} service property, e.g. {@code webhook}
     * @param log        the component's logger (lifecycle lines appear under its name)
     * @param describe   the effective configuration for the log; must not contain secrets
     */
    public BackendLifecycle(BundleContext context, String factoryPid, String kind, Logger log, Factory<S, B> factory,
            Function<? super S, String> describe) {
        this.context = context;
        this.factoryPid = factoryPid;
        this.kind = kind;
        this.log = log;
        this.factory = factory;
        this.describe = describe;
    }

    /**
     * Validates the first configuration and registers the backend.
     *
     * @param explicitName the configuration's {@code name} (may be empty or quoted)
     * @param settings     builds the settings; throws {@link IllegalArgumentException} with the reason
     * @throws ConfigCheck.Rejected if the configuration is invalid (logged and counted first)
     */
    public synchronized void activate(Map<String, ?> properties, String explicitName, Supplier<S> settings) {
        Resolved<S> r = ConfigCheck.activate(log, factoryPid, properties, resolve(properties, explicitName, settings));
        register(r, properties);
    }

    /**
     * Applies a modified configuration, or logs and counts why it is rejected and keeps the one in force.
     *
     * @return whether it was applied
     */
    public synchronized boolean modify(Map<String, ?> properties, String explicitName, Supplier<S> settings) {
        Resolved<S> r = ConfigCheck.modify(log, factoryPid, properties, resolve(properties, explicitName, settings),
                backend == null ? "none" : kind + " backend \"" + name + "\"");
        if (r == null) {
            return false;
        }
        if (backend != null && r.name().equals(name)) {
            backend.update(r.settings());
            try {
                registration.setProperties(BackendNames.serviceProperties(properties, name, kind));
            } catch (IllegalStateException e) {
                log.warn("{} backend \"{}\": its registration is gone; new properties not published", kind, name, e);
            }
            log.info("{} backend \"{}\" reconfigured: {}", kind, name, describe.apply(r.settings()));
            return true;
        }
        if (backend != null) {
            log.info("{} backend \"{}\" renamed to \"{}\": registered anew", kind, name, r.name());
            unregister();
        }
        register(r, properties);
        return true;
    }

    /** Unregisters the backend (routing stops using it once its write in flight is done), then closes it. */
    public synchronized void deactivate() {
        String stopped = name;
        boolean had = backend != null;
        unregister();
        if (had) {
            log.info("{} backend \"{}\" stopped", kind, stopped);
        }
    }

    /** The backend in service, or {@code null}. */
    public synchronized B backend() {
        return backend;
    }

    /** The instance name in service, or {@code null}. */
    public synchronized String name() {
        return name;
    }

    /**
     * The instance name: the configuration's {@code name} if set, else the {@code -<name>} part of
     * its file or the {@code ~<name>} part of its PID ({@link BackendNames#of}).
     *
     * @throws IllegalArgumentException if there is none
     */
    public static String instanceName(String factoryPid, String explicitName, Map<String, ?> properties) {
        String explicit = ConfigValues.unquote(explicitName);
        if (!explicit.isEmpty()) {
            return explicit;
        }
        String derived = BackendNames.of(properties);
        if (derived != null && !derived.isBlank()) {
            return derived.trim();
        }
        throw new IllegalArgumentException(
                "no backend name: set 'name' or use a file etc/" + factoryPid + "-<name>.cfg");
    }

    private Supplier<Resolved<S>> resolve(Map<String, ?> properties, String explicitName, Supplier<S> settings) {
        return () -> {
            S s = settings.get();
            return new Resolved<>(instanceName(factoryPid, explicitName, properties), s);
        };
    }

    private void register(Resolved<S> r, Map<String, ?> properties) {
        B created = factory.create(r.name(), r.settings());
        try {
            registration = context.registerService(new String[] {Backend.class.getName(), StatsSource.class.getName()},
                    created, BackendNames.serviceProperties(properties, r.name(), kind));
        } catch (RuntimeException e) {
            created.close();
            throw e;
        }
        backend = created;
        name = r.name();
        log.info("{} backend \"{}\" started: {}", kind, name, describe.apply(r.settings()));
    }

    private void unregister() {
        ServiceRegistration<?> r = registration;
        B b = backend;
        registration = null;
        backend = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                log.debug("{} backend \"{}\" was already unregistered", kind, name, e);
            }
        }
        if (b != null) {
            b.close();
        }
        name = null;
    }
}
