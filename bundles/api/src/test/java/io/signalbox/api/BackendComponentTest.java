package io.signalbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The DS surface every backend inherits: typed configuration from properties, one policy, registration. */
class BackendComponentTest {

    @interface TestConfig {
        String name() default "";

        int size() default 1;
    }

    /** The smallest backend: remembers the sizes it was given and whether it was closed. */
    static final class SizeBackend implements BackendLifecycle.Instance<Integer> {
        static final List<SizeBackend> made = new ArrayList<>();
        final String name;
        final List<Integer> sizes = new ArrayList<>();
        boolean closed;

        SizeBackend(String name, Integer size) {
            this.name = name;
            sizes.add(size);
            made.add(this);
        }

        @Override
        public void write(Batch batch) {
        }

        @Override
        public void collect(MetricsSink sink) {
        }

        @Override
        public void update(Integer size) {
            sizes.add(size);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static final class TestComponent extends BackendComponent<TestConfig, Integer, SizeBackend> {
        TestComponent() {
            super("io.signalbox.backend.test", "test", TestConfig.class, TestComponent::settings, SizeBackend::new,
                    size -> "size=" + size);
        }

        static Integer settings(TestConfig c, Map<String, ?> properties) {
            ConfigValues v = ConfigValues.of(TestConfig.class, c, properties);
            int size = v.range("size", c.size(), 1, 10);
            v.done();
            return size;
        }
    }

    @RegisterExtension
    final ComponentHarness<SizeBackend> component = ComponentHarness.of(SizeBackend.class, TestComponent::new);

    private static Map<String, Object> file(String name, Object... keyValues) {
        return FakeFramework.fileConfig("io.signalbox.backend.test", name, keyValues);
    }

    @Test
    void theTypedConfigurationIsMadeFromThePropertiesAndTheBackendRegisteredUnderItsName() {
        SizeBackend b = component.activate(file("audit", "size", "7"));
        assertThat(b.sizes).containsExactly(7);
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
        SizeBackend b = component.activate(file("audit", "size", "3"));
        long before = ConfigCheck.rejectionCount();

        component.modify(file("audit", "size", "11"));
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(b.sizes).containsExactly(3);

        component.modify(file("audit", "size", "4"));
        assertThat(b.sizes).containsExactly(3, 4);
        assertThat(component.registered("audit").service()).isSameAs(b);
    }

    @Test
    void aNewNameRegistersANewBackendAndDeactivationClosesIt() {
        SizeBackend first = component.activate(file("audit", "size", "3"));
        component.modify(file("audit", "size", "3", "name", "billing"));
        assertThat(first.closed).isTrue();
        SizeBackend second = (SizeBackend) component.registered("billing").service();
        assertThat(second).isNotSameAs(first);

        component.deactivate();
        assertThat(second.closed).isTrue();
        assertThat(component.registered()).isEmpty();
    }
}
