package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.signalbox.api.BackendLifecycleTest.Recording;

/** The DS surface every backend inherits: typed configuration from properties, one policy, registration. */
class BackendComponentTest {

    @interface TestConfig {
        String name() default "";

        int size() default 1;
    }

    /** Settings: the size as text; the backend is {@link BackendLifecycleTest.Recording}. */
    static final class TestComponent extends BackendComponent<TestConfig, String, Recording> {
        TestComponent() {
            super("io.signalbox.backend.test", "test", TestConfig.class, TestComponent::settings, Recording::new,
                    size -> "size=" + size);
        }

        static String settings(TestConfig c, Map<String, ?> properties) {
            ConfigValues v = ConfigValues.of(TestConfig.class, c, properties);
            int size = v.range("size", c.size(), 1, 10);
            v.done();
            return Integer.toString(size);
        }
    }

    @RegisterExtension
    final ComponentHarness<Recording> component = ComponentHarness.of(Recording.class, TestComponent::new);

    private static Map<String, Object> file(String name, Object... keyValues) {
        return FakeFramework.fileConfig("io.signalbox.backend.test", name, keyValues);
    }

    @Test
    void theTypedConfigurationIsMadeFromThePropertiesAndTheBackendRegisteredUnderItsName() {
        Recording b = component.activate(file("audit", "size", "7"));
        assertThat(b.settings).containsExactly("7");
        assertThat(component.registered("audit").properties()).containsEntry(Backend.KIND, "test")
                .doesNotContainKey("size");
    }

    @Test
    void theNameKeyWinsOverTheFileName() {
        component.activate(file("audit", "name", "\"billing\""));
        component.registered("billing");
    }

    @Test
    void aValueOfTheWrongTypeRejectsTheFirstConfigurationNamingThePid() {
        long before = ConfigCheck.rejectionCount();
        component.assertRejected(file("audit", "size", "seven"),
                "configuration io.signalbox.backend.test~audit");
        component.assertRejected(file("audit", "size", "seven"), "'size' = 'seven' is not a valid int");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 2);
    }

    @Test
    void anInvalidModificationKeepsTheConfigurationInForceAndAValidOneIsApplied() {
        Recording b = component.activate(file("audit", "size", "3"));
        long before = ConfigCheck.rejectionCount();

        component.modify(file("audit", "size", "11"));
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(b.settings).containsExactly("3");

        component.modify(file("audit", "size", "4"));
        assertThat(b.settings).containsExactly("3", "4");
        assertThat(component.registered("audit").service()).isSameAs(b);
    }

    @Test
    void aNewNameRegistersANewBackendAndDeactivationClosesIt() {
        Recording first = component.activate(file("audit", "size", "3"));
        component.modify(file("audit", "size", "3", "name", "billing"));
        assertThat(first.closed).isTrue();
        Recording second = (Recording) component.registered("billing").service();
        assertThat(second).isNotSameAs(first);

        component.deactivate();
        assertThat(second.closed).isTrue();
        assertThat(component.registered()).isEmpty();
    }
}
