package io.signalbox.backend.cloudwatch.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The typed configuration of a {@link CloudWatchBackendComponent}, one per file
 * {@code etc/io.signalbox.backend.cloudwatch-<name>.cfg}; validated as a whole by {@link CloudWatchSettings#of}.
 */
@ObjectClassDefinition(id = CloudWatchConfig.PID, name = "Signalbox CloudWatch Logs backend", description = "Writes each batch with PutLogEvents to a log group and stream named by templates.")
public @interface CloudWatchConfig {
    @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.") String name() default "";
    @AttributeDefinition(description = "AWS region, e.g. eu-west-1; empty = the SDK's default region chain (AWS_REGION, profile).") String region() default "";
    @AttributeDefinition(description = "Endpoint URL override (VPC endpoint, test server); empty = the region's endpoint.") String endpoint() default "";
    @AttributeDefinition(description = "Access key id; empty (with secret.access.key) = the default credential chain.") String access_key_id() default "";
    @AttributeDefinition(description = "Secret access key, e.g. ${env:AWS_SECRET_ACCESS_KEY}; never logged.", type = AttributeType.PASSWORD) String secret_access_key() default "";
    @AttributeDefinition(description = "Session token of temporary credentials; never logged.", type = AttributeType.PASSWORD) String session_token() default "";
    @AttributeDefinition(description = "Connect timeout in milliseconds.") int connect_timeout_ms() default 5000;
    @AttributeDefinition(description = "Time allowed for one API call, retries included, in milliseconds.") int request_timeout_ms() default 30000;
    @AttributeDefinition(description = "Attempts per API call by the SDK (throttling, 5xx); the routing channel retries the batch after that.") int max_attempts() default 3;
    @AttributeDefinition(description = "Log group name template; placeholders {source} and {type}.") String log_group_template() default "signalbox";
    @AttributeDefinition(description = "Log stream name template; placeholders {source} and {type}.") String log_stream_template() default "{source}";
    @AttributeDefinition(description = "Create a missing log group (an existing one is fine).") boolean create_group() default true;
    @AttributeDefinition(description = "Create a missing log stream (an existing one is fine).") boolean create_stream() default true;
    @AttributeDefinition(description = "Streams written at the same time (one call per stream at a time).") int parallelism() default 4;
    @AttributeDefinition(description = "Most events per PutLogEvents call (service limit 10000).") int max_events_per_call() default 10000;
    @AttributeDefinition(description = "Most bytes per call: UTF-8 message bytes + 26 per event (service limit 1048576).") int max_bytes_per_call() default 1048576;
    @AttributeDefinition(description = "Largest event (message bytes + 26); larger events are dropped and counted.") int max_event_bytes() default 262144;

    /** Factory PID: {@code etc/io.signalbox.backend.cloudwatch-<name>.cfg}. */
    String PID = "io.signalbox.backend.cloudwatch";
}
