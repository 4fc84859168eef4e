package io.signalbox.transport.kafka.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The typed configuration of a {@link KafkaSourceComponent}, one per file
 * {@code etc/io.signalbox.transport.kafka-<name>.cfg}; validated as a whole by {@link KafkaSourceSettings#of}.
 * Keys {@code kafka.<consumer property>} are passed to the consumer as they are (TLS, SASL, tuning).
 */
@ObjectClassDefinition(id = KafkaSourceConfig.PID, name = "Signalbox Kafka transport", description = "Consumes topics as a consumer group member and feeds every record's line into the pipeline like a TCP line.")
public @interface KafkaSourceConfig {
    @AttributeDefinition(description = "Kafka brokers, host:port[,host:port...]. Required.") String bootstrap_servers() default "";
    @AttributeDefinition(description = "Topics to consume. Required.") String[] topics() default {"signalbox"};
    @AttributeDefinition(description = "Consumer group: every instance with the same group shares the topics' partitions.") String group_id() default "signalbox-aggregators";
    @AttributeDefinition(description = "Where a group without a committed offset starts: earliest or latest.") String auto_offset_reset() default "earliest";
    @AttributeDefinition(description = "Records read but not yet committed, at most; reading pauses above it. Bounds what a crash re-reads.") int max_uncommitted() default 10000;
    @AttributeDefinition(description = "Records one poll returns at most.") int max_poll_records() default 1000;
    @AttributeDefinition(description = "Delivered offsets are committed at least this often, ms.") long commit_interval_ms() default 1000;
    @AttributeDefinition(description = "Longest line (record value) in bytes; longer ones are dropped and counted (too_long).") int max_line_length() default 65536;
    @AttributeDefinition(description = "On stop, how long to wait for the records read to be delivered before the last commit, ms.") long close_timeout_ms() default 10000;

    /** Factory PID: {@code etc/io.signalbox.transport.kafka-<name>.cfg}. */
    String PID = "io.signalbox.transport.kafka";

    /** Prefix of the keys passed to the consumer as they are. */
    String PASS_THROUGH = "kafka.";
}
