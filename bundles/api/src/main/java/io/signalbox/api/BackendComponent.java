package io.signalbox.api;

import java.lang.annotation.Annotation;
import java.util.Map;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.LoggerFactory;

/**
 * The Declarative Services side of every backend: a backend component extends this class and
 * is then only its {@code @Component}/{@code @Designate} declaration, its typed configuration
 * and one constructor naming its kind, settings record and backend (docs/architecture.md,
 * "Write a backend"):
 * <pre>{@code
 * @Component(name = WebhookConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
 *         service = {}, immediate = true)
 * @Designate(ocd = WebhookConfig.class, factory = true)
 * public final class WebhookBackendComponent extends BackendComponent<WebhookConfig, WebhookSettings, WebhookBackend> {
 *     public WebhookBackendComponent() {
 *         super("webhook", WebhookConfig.class, WebhookSettings::of, WebhookBackend::new, WebhookSettings::describe);
 *     }
 * }
 * }</pre>
 * The {@code @Activate}, {@code @Modified} and {@code @Deactivate} methods are inherited (every
 * bundle is built with bnd's {@code -dsannotations-options: inherit}); they hand the
 * configuration to a {@link BackendLifecycle}, which validates it as a whole, names the instance,
 * registers the backend and applies or rejects modifications — the one activation policy of
 * {@link ConfigCheck}: invalid at activation is logged, counted and thrown (nothing registered);
 * invalid on modification is logged and counted and the configuration in force stays. The typed
 * configuration is made by {@link TypedConfig} from the properties, because an inherited method
 * cannot name the subclass's annotation type.
 *
 * @param <C> the typed configuration ({@code @ObjectClassDefinition} annotation; must have {@code name()})
 * @param <S> the validated settings
 * @param <B> the backend
 */
public abstract class BackendComponent<C extends Annotation, S, B extends BackendLifecycle.Instance<S>> {

    /** Builds the settings of a typed configuration and its raw properties; throws {@link ConfigCheck.Rejected}. */
    @FunctionalInterface
    public interface SettingsOf<C, S> {
        S of(C config, Map<String, ?> properties);
    }

    /** The settings of a configuration: its typed view made by {@link TypedConfig}, then validated. */
    private final Function<Map<String, ?>, S> settingsOf;
    /** Makes the lifecycle once DS hands over the bundle context. */
    private final Function<BundleContext, BackendLifecycle<S, B>> lifecycleOf;
    private BackendLifecycle<S, B> lifecycle;

    /**
     * @param factoryPid the factory PID, e.g. {@code io.signalbox.backend.webhook} (named in rejections)
     * @param kind       the {@value Backend#KIND} service property, e.g. {@code webhook}
     * @param configType the typed configuration
     * @param settings   validates a configuration as a whole ({@code XSettings::of})
     * @param factory    makes the backend of an instance ({@code XBackend::new})
     * @param describe   the effective settings for the log; must not contain secrets
     */
    protected BackendComponent(String factoryPid, String kind, Class<C> configType, SettingsOf<C, S> settings,
            BackendLifecycle.Factory<S, B> factory, Function<? super S, String> describe) {
        this.settingsOf = properties -> settings.of(TypedConfig.of(configType, properties), properties);
        this.lifecycleOf = context -> new BackendLifecycle<>(context, factoryPid, kind, LoggerFactory.getLogger(getClass()),
                factory, describe);
    }

    /**
     * Validates the first configuration and registers the backend.
     *
     * @throws ConfigCheck.Rejected if the configuration is invalid (logged and counted first)
     */
    @Activate
    public void activate(BundleContext context, Map<String, Object> properties) {
        BackendLifecycle<S, B> l = lifecycleOf.apply(context);
        l.activate(properties, name(properties), () -> settingsOf.apply(properties));
        lifecycle = l;
    }

    /** Applies a modified configuration, or logs and counts why not and keeps the one in force. */
    @Modified
    public void modified(Map<String, Object> properties) {
        lifecycle.modify(properties, name(properties), () -> settingsOf.apply(properties));
    }

    /** Unregisters the backend (its write in flight completes first), then closes it. */
    @Deactivate
    public void deactivate() {
        BackendLifecycle<S, B> l = lifecycle;
        lifecycle = null;
        if (l != null) {
            l.deactivate();
        }
    }

    /** The backend in service, or {@code null} (for tests and diagnostics). */
    public B backend() {
        BackendLifecycle<S, B> l = lifecycle;
        return l == null ? null : l.backend();
    }

    private static String name(Map<String, ?> properties) {
        Object name = properties.get("name");
        return name == null ? "" : String.valueOf(name instanceof String[] a && a.length > 0 ? a[0] : name);
    }
}
