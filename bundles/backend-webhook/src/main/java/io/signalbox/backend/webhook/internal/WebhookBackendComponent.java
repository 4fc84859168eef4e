package io.signalbox.backend.webhook.internal;

import java.util.Map;

import org.osgi.framework.BundleContext;
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
import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.ConfigCheck;

/**
 * One webhook backend per factory configuration {@code etc/io.signalbox.backend.webhook-<name>.cfg},
 * run by a {@link BackendLifecycle}: the configuration is validated as a whole
 * ({@link WebhookSettings#of}) before it takes effect. Invalid at activation: logged, counted, and
 * {@link ConfigCheck.Rejected} thrown, so nothing is registered until the file is corrected.
 * Invalid on modification: logged, counted, and the configuration in force stays. A valid
 * modification applies to the next request; a new instance name registers the backend anew.
 * Configuration values (URL, headers) are never published as service properties.
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

        @AttributeDefinition(description = "Target URL, http:// or https://, no user info (use a header). Required.")
        String url() default "";

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

    private final BackendLifecycle<WebhookSettings, WebhookBackend> lifecycle;

    @Activate
    public WebhookBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        lifecycle = new BackendLifecycle<>(context, FACTORY_PID, KIND, LOG, WebhookBackend::new, WebhookSettings::describe);
        lifecycle.activate(properties, config.name(), () -> WebhookSettings.of(config, properties));
    }

    @Modified
    void modified(Config config, Map<String, Object> properties) {
        lifecycle.modify(properties, config.name(), () -> WebhookSettings.of(config, properties));
    }

    @Deactivate
    void deactivate() {
        lifecycle.deactivate();
    }
}
