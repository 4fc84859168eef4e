package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.osgi.framework.BundleContext;

import io.signalbox.api.FakeFramework.Registered;

/**
 * Runs one backend component (a {@link BackendLifecycle} behind {@code @Activate}, {@code @Modified}
 * and {@code @Deactivate}) the way Declarative Services would: each configuration map is converted
 * to the component's {@code Config} type, and the component registers through a
 * {@link FakeFramework#context} whose registrations in force {@link #registered()} lists.
 *
 * <p>Declare it as a {@code @RegisterExtension} field: the component is deactivated right after
 * each test, before any {@code @AfterEach} (so before the test's servers stop).
 * <pre>{@code
 * @RegisterExtension
 * final ComponentHarness<WebhookBackend> component = ComponentHarness.of(WebhookBackend.class,
 *         WebhookBackendComponent.Config.class, WebhookBackendComponent::new, WebhookBackendComponent::modified,
 *         WebhookBackendComponent::deactivate);
 * }</pre>
 *
 * @param <B> the backend the component registers
 */
public final class ComponentHarness<B extends Backend> implements AfterTestExecutionCallback {

    /** The component's {@code @Activate} constructor. */
    @FunctionalInterface
    public interface Activate<K, C> {
        C activate(K config, Map<String, Object> properties, BundleContext context);
    }

    /** The component's {@code @Modified} method. */
    @FunctionalInterface
    public interface Modify<K, C> {
        void modified(C component, K config, Map<String, Object> properties);
    }

    /** An activated component. */
    private interface Active {
        void modify(Map<String, Object> properties);

        void deactivate();
    }

    private final List<Registered> registered = new ArrayList<>();
    private final BundleContext context = FakeFramework.context(registered);
    private final Class<B> backendType;
    private final BiFunction<Map<String, Object>, BundleContext, Active> activation;
    private Active component;

    private ComponentHarness(Class<B> backendType, BiFunction<Map<String, Object>, BundleContext, Active> activation) {
        this.backendType = backendType;
        this.activation = activation;
    }

    /**
     * @param backendType the backend class the component registers
     * @param configType  the component's {@code Config} annotation
     */
    public static <K, C, B extends Backend> ComponentHarness<B> of(Class<B> backendType, Class<K> configType,
            Activate<K, C> activate, Modify<K, C> modify, Consumer<? super C> deactivate) {
        return new ComponentHarness<>(backendType, (properties, context) -> {
            C c = activate.activate(FakeFramework.config(configType, properties), properties, context);
            return new Active() {
                @Override
                public void modify(Map<String, Object> p) {
                    modify.modified(c, FakeFramework.config(configType, p), p);
                }

                @Override
                public void deactivate() {
                    deactivate.accept(c);
                }
            };
        });
    }

    /**
     * Activates the component with {@code properties}.
     *
     * @return the backend it registered
     * @throws ConfigCheck.Rejected if the component rejects the configuration (then nothing is active)
     */
    public B activate(Map<String, Object> properties) {
        component = activation.apply(properties, context);
        return backendType.cast(registered.get(0).service());
    }

    /** Hands the active component a modified configuration. */
    public void modify(Map<String, Object> properties) {
        component.modify(properties);
    }

    /** Deactivates the component, if one is active. */
    public void deactivate() {
        Active c = component;
        component = null;
        if (c != null) {
            c.deactivate();
        }
    }

    @Override
    public void afterTestExecution(ExtensionContext extension) {
        deactivate();
    }

    /** The registrations in force (live). */
    public List<Registered> registered() {
        return registered;
    }

    /** The one registration in force, after checking that it is the only one and named {@code name}. */
    public Registered registered(String name) {
        assertThat(registered).as("registrations in force").hasSize(1);
        Registered r = registered.get(0);
        assertThat(r.properties()).containsEntry(Backend.NAME, name);
        return r;
    }

    /**
     * Checks that {@code properties} as the first configuration are rejected ({@link ConfigCheck.Rejected}
     * whose message contains {@code reason}) and that nothing is registered.
     */
    public void assertRejected(Map<String, Object> properties, String reason) {
        assertThatThrownBy(() -> activate(properties)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining(reason);
        assertThat(registered).as("registrations in force").isEmpty();
    }
}
