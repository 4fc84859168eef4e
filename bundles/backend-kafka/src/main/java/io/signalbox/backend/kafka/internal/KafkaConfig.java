package io.signalbox.backend.kafka.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The typed configuration of a {@link KafkaBackendComponent}, one per file
 * {@code etc/io.signalbox.backend.kafka-<name>.cfg}; validated as a whole by {@link KafkaSettings#of}.
 * Keys {@code kafka.<producer property>} are passed to the producer as they are (TLS, SASL, tuning);
 * they are not attributes here because their names are Kafka's.
 */
@ObjectClassDefinition(id = KafkaConfig.PID, name = "Signalbox Kafka backend", description = "Produces every message as one Kafka record: the raw line as value, src/type as headers, keyed by trace id.")
public @interface KafkaConfig {
    @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.") String name() default "";
    @AttributeDefinition(description = "Kafka brokers, host:port[,host:port...]. Required.") String bootstrap_servers() default "";
    @AttributeDefinition(description = "Topic; {source} and {type} are replaced by the message's (characters Kafka does not allow become _).") String topic() default "signalbox";
    @AttributeDefinition(description = "Record key: tid (trace id, else source), src (source) or none.", options = {@Option(label = "tid", value = "tid"), @Option(label = "src", value = "src"), @Option(label = "none", value = "none")}) String key() default "tid";
    @AttributeDefinition(description = "acks the producer asks for: all (every in-sync replica) or 1 (the leader only).") String acks() default "all";
    @AttributeDefinition(description = "Idempotent producer: a retried send is written once per partition (needs acks=all).") boolean idempotence() default true;
    @AttributeDefinition(description = "Compression of record batches.", options = {@Option(label = "none", value = "none"), @Option(label = "gzip", value = "gzip"), @Option(label = "snappy", value = "snappy"), @Option(label = "lz4", value = "lz4"), @Option(label = "zstd", value = "zstd")}) String compression() default "lz4";
    @AttributeDefinition(description = "Add the headers src and type to every record.") boolean headers() default true;
    @AttributeDefinition(description = "How long the producer may wait to fill a record batch, ms; 0: batches in flight (routing max.in.flight) are sent at once, and records that arrive while a request is out are batched anyway.") int linger_ms() default 0;
    @AttributeDefinition(description = "Largest record batch per partition, bytes.") int batch_size() default 131072;
    @AttributeDefinition(description = "How long a record may take to be acknowledged, retries included, before its batch fails, ms.") int delivery_timeout_ms() default 30000;
    @AttributeDefinition(description = "Time allowed for one produce request, ms.") int request_timeout_ms() default 10000;
    @AttributeDefinition(description = "How long send may wait for metadata or buffer space (a broker that is down), ms.") long max_block_ms() default 10000;

    /** Factory PID: {@code etc/io.signalbox.backend.kafka-<name>.cfg}. */
    String PID = "io.signalbox.backend.kafka";

    /** Prefix of the keys passed to the producer as they are: {@code kafka.ssl.truststore.location=...}. */
    String PASS_THROUGH = "kafka.";
}
