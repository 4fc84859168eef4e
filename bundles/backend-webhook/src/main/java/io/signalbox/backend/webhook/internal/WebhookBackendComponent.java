package io.signalbox.backend.webhook.internal;

import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendNames;
import io.signalbox.api.StatsSource;

/**
 * One webhook backend per factory configuration {@code etc/io.signalbox.backend.webhook-<name>.cfg}.
 *
 * <p>The configuration is validated as a whole before it takes effect. Invalid at activation: an
 * ERROR with the reason and nothing is registered. Invalid on modification: an ERROR and the
 * previous configuration stays in force. A valid modification applies to the next request; a new
 * instance name re-registers the backend under that name.
 *
 * <p>The component registers the {@link WebhookBackend} as {@link Backend} and
 * {@link StatsSource} itself, with {@value Backend#NAME} = the instance name and
 * {@value Backend#KIND} = {@value #KIND}. Its configuration values (URL, headers) are not
 * published as service properties: they may carry secrets.
 */
@Component(name = WebhookBackendComponent.FACTORY_PID, configurationPid = WebhookBackendComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {}, immediate = true)
@Designate(ocd = WebhookBackendComponent.Config.class, factory = true)
public final class WebhookBackendComponent {
    /** Factory PID: {@code etc/io.signalbox.backend.webhook-<name>.cfg}. */
    public static final String FACTORY_PID = "io.signalbox.backend.webhook";
    /** Value of the {@value Backend#KIND} service property. */
    public static final String KIND = "webhook";

    private static final Logger LOG = LoggerFactory.getLogger(WebhookBackendComponent.class);

    @ObjectClassDefinition(id = FACTORY_PID, name = "Signalbox webhook backend",
            description = "Sends each batch as an HTTP request whose body is a JSON array of the messages; 2xx = delivered.")
    public @interface Config {
        @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.")
        String name() default "";

        @AttributeDefinition(description = "Target URL, http:// or https://, no user info (use a header).")
        String url();

        @AttributeDefinition(description = "HTTP method.",
                options = {@Option(label = "POST", value = "POST"), @Option(label = "PUT", value = "PUT")})
        String method() default "POST";

        @AttributeDefinition(description = "Send bodies gzip-compressed (Content-Encoding: gzip).")
        boolean gzip() default false;

        @AttributeDefinition(description = "Extra request headers, \"Name: value\" each; values are never logged.")
        String[] headers() default {};

        @AttributeDefinition(description = "Connect timeout in milliseconds.")
        long connect_timeout_ms() default 5000;

        @AttributeDefinition(description = "Time allowed for one request until its response is complete, in milliseconds.")
        long request_timeout_ms() default 10000;

        @AttributeDefinition(description = "Largest uncompressed request body in bytes; larger batches are split, in order.")
        int max_batch_bytes() default 4194304;
    }

    private final BundleContext context;
    private WebhookBackend backend;
    private ServiceRegistration<?> registration;

    @Activate
    public WebhookBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        this.context = context;
        apply(config, properties, false);
    }

    /** A changed configuration: applied if valid, else rejected with the previous one kept. */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        apply(config, properties, true);
    }

    private synchronized void apply(Config config, Map<String, Object> properties, boolean modification) {
        WebhookSettings settings;
        String name;
        try {
            settings = WebhookSettings.of(config, properties);
            name = instanceName(config, properties);
        } catch (IllegalArgumentException e) {
            String pid = String.valueOf(properties.getOrDefault("service.pid", FACTORY_PID));
            Object file = properties.get(BackendNames.FILEINSTALL_FILENAME);
            String consequence = !modification ? ""
                    : backend != null ? "; the previous configuration stays in force"
                    : "; the backend stays unregistered";
            LOG.error("configuration {}{} rejected: {}{}", pid, file == null ? "" : " (" + file + ")", e.getMessage(),
                    consequence);
            return;
        }
        if (backend != null && backend.name().equals(name)) {
            backend.update(settings);
            registration.setProperties(serviceProperties(properties, name));
            LOG.info("webhook backend \"{}\" reconfigured: {}", name, describe(settings));
            return;
        }
        if (backend != null) {
            LOG.info("webhook backend \"{}\" renamed to \"{}\"", backend.name(), name);
            unregister();
        }
        WebhookBackend created = new WebhookBackend(name, settings);
        try {
            registration = context.registerService(
                    new String[] {Backend.class.getName(), StatsSource.class.getName()}, created,
                    serviceProperties(properties, name));
        } catch (RuntimeException e) {
            created.close();
            throw e;
        }
        backend = created;
        LOG.info("webhook backend \"{}\" started: {}", name, describe(settings));
    }

    /** Effective configuration for the log: origin only (path and query may be secret), header names only. */
    static String describe(WebhookSettings s) {
        return s.method() + " " + s.origin() + "/…, gzip=" + s.gzip() + ", headers=" + s.headerNames()
                + ", connect.timeout.ms=" + s.connectTimeout().toMillis() + ", request.timeout.ms="
                + s.requestTimeout().toMillis() + ", max.batch.bytes=" + s.maxBatchBytes();
    }

    /** Unregisters the backend (routing stops using it once its write in flight is done), then closes it. */
    @Deactivate
    public synchronized void deactivate() {
        WebhookBackend b = backend;
        unregister();
        if (b != null) {
            LOG.info("webhook backend \"{}\" stopped", b.name());
        }
    }

    private void unregister() {
        ServiceRegistration<?> r = registration;
        WebhookBackend b = backend;
        registration = null;
        backend = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("webhook backend \"{}\" was already unregistered", b == null ? "?" : b.name(), e);
            }
        }
        if (b != null) {
            b.close();
        }
    }

    /** The backend in service, or {@code null} if no valid configuration was ever given. */
    synchronized WebhookBackend backend() {
        return backend;
    }

    /** The instance name: explicit {@code name}, else the PID or file name part (see {@link BackendNames}). */
    static String instanceName(Config config, Map<String, ?> properties) {
        String explicit = config.name() == null ? "" : WebhookSettings.unquote(config.name());
        if (!explicit.isEmpty()) {
            return explicit;
        }
        String derived = BackendNames.of(properties);
        if (derived != null && !derived.isBlank()) {
            return derived;
        }
        Object pid = properties.get("service.pid");
        if (pid != null) {
            return pid.toString();
        }
        throw new IllegalArgumentException("no backend name: set 'name' or use a file etc/" + FACTORY_PID + "-<name>.cfg");
    }

    /** Framework properties of the configuration (PIDs, file name) plus name and kind; never its values. */
    static Hashtable<String, Object> serviceProperties(Map<String, ?> properties, String name) {
        return BackendNames.serviceProperties(properties, name, KIND);
    }
}
