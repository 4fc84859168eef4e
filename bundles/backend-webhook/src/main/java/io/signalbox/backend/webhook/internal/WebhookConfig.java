package io.signalbox.backend.webhook.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The typed configuration of a {@link WebhookBackendComponent}, one per file
 * {@code etc/io.signalbox.backend.webhook-<name>.cfg}; validated as a whole by {@link WebhookSettings#of}.
 */
@ObjectClassDefinition(id = WebhookConfig.PID, name = "Signalbox webhook backend", description = "Sends each batch as an HTTP request whose body is a JSON array of the messages; 2xx = delivered.")
public @interface WebhookConfig {
    @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.") String name() default "";
    @AttributeDefinition(description = "Target URL, http:// or https://, no user info (use a header). Required.") String url() default "";
    @AttributeDefinition(description = "HTTP method.", options = {@Option(label = "POST", value = "POST"), @Option(label = "PUT", value = "PUT")}) String method() default "POST";
    @AttributeDefinition(description = "Send bodies gzip-compressed (Content-Encoding: gzip).") boolean gzip() default false;
    @AttributeDefinition(description = "Extra request headers, \"Name: value\" each; values are never logged.") String[] headers() default {};
    @AttributeDefinition(description = "Connect timeout in milliseconds.") long connect_timeout_ms() default 5000;
    @AttributeDefinition(description = "Time allowed for one request until its response is complete, in milliseconds.") long request_timeout_ms() default 10000;
    @AttributeDefinition(description = "Largest uncompressed request body in bytes; larger batches are split, in order.") int max_batch_bytes() default 4194304;

    /** Factory PID: {@code etc/io.signalbox.backend.webhook-<name>.cfg}. */
    String PID = "io.signalbox.backend.webhook";
}
