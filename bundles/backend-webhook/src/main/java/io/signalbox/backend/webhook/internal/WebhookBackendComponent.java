package io.signalbox.backend.webhook.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.signalbox.api.BackendComponent;

/**
 * One webhook backend per factory configuration {@code etc/io.signalbox.backend.webhook-<name>.cfg},
 * run by a {@link io.signalbox.api.BackendLifecycle}: the configuration is validated as a whole
 * ({@link WebhookSettings#of}) before it takes effect. Invalid at activation: logged, counted, and
 * {@link io.signalbox.api.ConfigCheck.Rejected} thrown, so nothing is registered until the file is corrected.
 * Invalid on modification: logged, counted, and the configuration in force stays. A valid
 * modification applies to the next request; a new instance name registers the backend anew.
 * Configuration values (URL, headers) are never published as service properties.
 */
@Component(name = WebhookConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = WebhookConfig.class, factory = true)
public final class WebhookBackendComponent extends BackendComponent<WebhookConfig, WebhookSettings, WebhookBackend> {
    public WebhookBackendComponent() {
        super(WebhookConfig.PID, "webhook", WebhookConfig.class, WebhookSettings::of, WebhookBackend::new, WebhookSettings::describe);
    }
}
