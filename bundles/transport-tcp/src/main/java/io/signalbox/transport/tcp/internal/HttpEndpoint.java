package io.signalbox.transport.tcp.internal;

import java.util.Collection;
import java.util.function.Consumer;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;

/**
 * Follows the sidecar's HTTP address as the servlet whiteboard publishes it ({@code osgi.http.endpoint}
 * of the {@code HttpServiceRuntime} service), so that an HTTP request sent to the TCP port by
 * mistake can be redirected there. Tracked by class name: this bundle does not import the servlet
 * whiteboard's packages.
 */
final class HttpEndpoint {
    static final String RUNTIME = "org.osgi.service.servlet.runtime.HttpServiceRuntime";
    static final String ENDPOINT = "osgi.http.endpoint";

    private HttpEndpoint() {
    }

    /** Starts following; {@code sink} gets the address, or {@code null} while there is none. */
    static ServiceTracker<Object, Object> track(BundleContext context, Consumer<String> sink) {
        ServiceTracker<Object, Object> t;
        try {
            t = new ServiceTracker<>(context, context.createFilter("(objectClass=" + RUNTIME + ")"),
                    new ServiceTrackerCustomizer<>() {
                        @Override
                        public Object addingService(ServiceReference<Object> ref) {
                            sink.accept(of(ref.getProperty(ENDPOINT)));
                            return ref;
                        }

                        @Override
                        public void modifiedService(ServiceReference<Object> ref, Object service) {
                            sink.accept(of(ref.getProperty(ENDPOINT)));
                        }

                        @Override
                        public void removedService(ServiceReference<Object> ref, Object service) {
                            sink.accept(null);
                        }
                    });
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException("filter for " + RUNTIME, e); // a constant filter: cannot happen
        }
        t.open(true); // all services: the class is not visible to this bundle
        return t;
    }

    /** The first {@code http://} (else any) address of an {@code osgi.http.endpoint} value. */
    static String of(Object value) {
        String any = null;
        Iterable<?> values = value instanceof String[] a ? java.util.List.of(a)
                : value instanceof Collection<?> c ? c : value == null ? java.util.List.of() : java.util.List.of(value);
        for (Object v : values) {
            String s = String.valueOf(v);
            if (s.startsWith("http://")) {
                return s;
            }
            if (any == null && s.startsWith("https://")) {
                any = s;
            }
        }
        return any;
    }
}
