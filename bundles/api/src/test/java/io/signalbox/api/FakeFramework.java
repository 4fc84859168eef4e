package io.signalbox.api;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.util.converter.Converters;

/**
 * Test helpers shared by the backend bundles (published as this bundle's test-jar): a
 * {@link BundleContext} stand-in that records service registrations, and configuration maps.
 * A module's {@code Fixtures} extends it to add its own; {@link ComponentHarness} runs a backend
 * component against it.
 */
public class FakeFramework {
    protected FakeFramework() {
    }

    /** A registration made through {@link #context}, held until it is unregistered. */
    public record Registered(List<String> classes, Object service, Map<String, Object> properties) {
    }

    /** A framework stand-in: {@code registered} holds each registration until it is unregistered. */
    @SuppressWarnings("unchecked") // the properties are a Hashtable<String, Object> (BackendNames.serviceProperties)
    public static BundleContext context(List<Registered> registered) {
        ClassLoader loader = FakeFramework.class.getClassLoader();
        return (BundleContext) Proxy.newProxyInstance(loader, new Class<?>[] {BundleContext.class}, (c, m, args) -> {
            if (!m.getName().equals("registerService")) {
                throw new UnsupportedOperationException(m.getName());
            }
            Registered r = new Registered(List.of((String[]) args[0]), args[1], (Map<String, Object>) args[2]);
            registered.add(r);
            return Proxy.newProxyInstance(loader, new Class<?>[] {ServiceRegistration.class},
                    (reg, op, none) -> op.getName().equals("unregister") && registered.remove(r));
        });
    }

    /** A mutable map of key/value pairs. */
    public static Map<String, Object> props(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /**
     * Properties as fileinstall delivers them for {@code etc/<factoryPid>-<name>.cfg}: the key/value
     * pairs plus the framework keys {@code service.pid}, {@code service.factoryPid} and the file name.
     */
    public static Map<String, Object> fileConfig(String factoryPid, String name, Object... keyValues) {
        Map<String, Object> m = props(keyValues);
        m.put("service.pid", factoryPid + "~" + name);
        m.put("service.factoryPid", factoryPid);
        m.put(BackendNames.FILEINSTALL_FILENAME, "file:/x/etc/" + factoryPid + "-" + name + ".cfg");
        return m;
    }

    /** The typed configuration (a component's {@code Config} annotation) that DS makes of {@code properties}. */
    public static <T> T config(Class<T> type, Map<String, ?> properties) {
        return Converters.standardConverter().convert(properties).to(type);
    }

    /**
     * A backend's settings as its component makes them on activation: {@code of} applied to the
     * typed configuration of {@code properties} (see {@link #config}) and to the properties themselves.
     */
    public static <C, S> S settings(Class<C> type, Map<String, ?> properties,
            BiFunction<? super C, ? super Map<String, ?>, ? extends S> of) {
        return of.apply(config(type, properties), properties);
    }
}
