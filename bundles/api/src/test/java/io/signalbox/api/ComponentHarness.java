package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.osgi.framework.BundleContext;

import io.signalbox.api.FakeFramework.Registered;

/**
 * Runs one backend component (a {@link BackendComponent}) the way Declarative Services would:
 * its inherited {@code activate}, {@code modified} and {@code deactivate} are called with each
 * configuration map, and it registers through a {@link FakeFramework#context} whose registrations
 * in force {@link #registered()} lists.
 *
 * <p>Declare it as a {@code @RegisterExtension} field: the component is deactivated right after
 * each test, before any {@code @AfterEach} (so before the test's servers stop).
 * <pre>{@code
 * @RegisterExtension
 * final ComponentHarness<WebhookBackend> component = ComponentHarness.of(WebhookBackend.class,
 *         WebhookBackendComponent::new);
 * }</pre>
 *
 * @param <B> the backend the component registers
 */
public final class ComponentHarness<B extends Backend> implements AfterTestExecutionCallback {

    private final List<Registered> registered = new ArrayList<>();
    private final BundleContext context = FakeFramework.context(registered);
    private final Class<B> backendType;
    private final Supplier<? extends BackendComponent<?, ?, ?>> factory;
    private BackendComponent<?, ?, ?> component;

    private ComponentHarness(Class<B> backendType, Supplier<? extends BackendComponent<?, ?, ?>> factory) {
        this.backendType = backendType;
        this.factory = factory;
    }

    /**
     * @param backendType the backend class the component registers
     * @param component   makes the component (DS calls its no-argument constructor)
     */
    public static <B extends Backend> ComponentHarness<B> of(Class<B> backendType,
            Supplier<? extends BackendComponent<?, ?, ?>> component) {
        return new ComponentHarness<>(backendType, component);
    }

    /**
     * Activates the component with {@code properties}.
     *
     * @return the backend it registered
     * @throws ConfigCheck.Rejected if the component rejects the configuration (then nothing is active)
     */
    public B activate(Map<String, Object> properties) {
        BackendComponent<?, ?, ?> c = factory.get();
        c.activate(context, properties);
        component = c;
        return backendType.cast(registered.get(0).service());
    }

    /** Hands the active component a modified configuration. */
    public void modify(Map<String, Object> properties) {
        component.modified(properties);
    }

    /** Deactivates the component, if one is active. */
    public void deactivate() {
        BackendComponent<?, ?, ?> c = component;
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
