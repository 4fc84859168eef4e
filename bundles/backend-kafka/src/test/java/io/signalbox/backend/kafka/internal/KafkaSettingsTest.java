package io.signalbox.backend.kafka.internal;

import static io.signalbox.backend.kafka.internal.Fixtures.props;
import static io.signalbox.backend.kafka.internal.Fixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import io.signalbox.api.ConfigCheck;

class KafkaSettingsTest {
    @Test
    void defaultsAreAcksAllIdempotentLz4KeyedByTraceIdWithHeaders() {
        KafkaSettings s = settings(props("bootstrap.servers", "k1:9092,k2:9092"));
        assertThat(s.producer()).containsEntry("bootstrap.servers", "k1:9092,k2:9092").containsEntry("acks", "all")
                .containsEntry("enable.idempotence", true).containsEntry("compression.type", "lz4")
                .containsEntry("key.serializer", ByteArraySerializer.class)
                .containsEntry("value.serializer", ByteArraySerializer.class);
        assertThat(s.key()).isEqualTo("tid");
        assertThat(s.headers()).isTrue();
        assertThat(s.topic().toString()).isEqualTo("signalbox");
    }

    @Test
    void kafkaPrefixedKeysPassThroughWithEnvironmentSecretsResolvedAndNeverDescribed() {
        KafkaSettings s = KafkaSettings.of(Fixtures.config(KafkaConfig.class, props("bootstrap.servers", "k:9093",
                "kafka.security.protocol", "SASL_SSL", "kafka.sasl.mechanism", "PLAIN",
                "kafka.sasl.jaas.config", "${env:KAFKA_JAAS}", "compression", "zstd")),
                props("bootstrap.servers", "k:9093", "kafka.security.protocol", "SASL_SSL", "kafka.sasl.mechanism", "PLAIN",
                        "kafka.sasl.jaas.config", "${env:KAFKA_JAAS}", "compression", "zstd"),
                Map.of("KAFKA_JAAS", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"s3cret\";")::get);
        assertThat(s.producer()).containsEntry("security.protocol", "SASL_SSL").containsEntry("compression.type", "zstd");
        assertThat((String) s.producer().get("sasl.jaas.config")).contains("s3cret");
        assertThat(s.describe()).contains("kafka.sasl.jaas.config").doesNotContain("s3cret");
    }

    @Test
    void everyProblemIsNamedAtOnce() {
        assertThatThrownBy(() -> settings(props("topic", "a/b", "key", "trace", "acks", "1",
                "kafka.acks", "0", "kafka.value.serializer", "x", "kafka.retrys", "3", "linger.ms", "-1")))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'bootstrap.servers' is required")
                .hasMessageContaining("'topic' may contain only")
                .hasMessageContaining("'key' must be one of tid, src, none")
                .hasMessageContaining("'idempotence' = true needs acks=all")
                .hasMessageContaining("'kafka.acks' is set by 'acks'")
                .hasMessageContaining("'kafka.value.serializer' cannot be configured")
                .hasMessageContaining("'kafka.retrys' is not a Kafka producer property")
                .hasMessageContaining("'linger.ms' must be 0..60000, is -1");
    }

    @Test
    void unknownOwnKeysAreRejectedWithASuggestion() {
        assertThatThrownBy(() -> settings(props("bootstrap.servers", "k:9092", "compresion", "lz4")))
                .hasMessageContaining("unknown key 'compresion' (did you mean 'compression'?)");
    }

    @Test
    void kafkaItselfChecksPassedThroughValues() {
        assertThatThrownBy(() -> settings(props("bootstrap.servers", "k:9092", "kafka.security.protocol", "CARRIER_PIGEON")))
                .hasMessageContaining("Kafka refuses the producer configuration")
                .hasMessageContaining("security.protocol");
    }

    @Test
    void anUnsetEnvironmentVariableIsAProblemWithoutAValue() {
        assertThatThrownBy(() -> KafkaSettings.of(Fixtures.config(KafkaConfig.class, props("bootstrap.servers", "k:9092")),
                props("bootstrap.servers", "k:9092", "kafka.ssl.key.password", "${env:NOPE_NOT_SET}"), name -> null))
                .hasMessageContaining("'kafka.ssl.key.password' refers to environment variable NOPE_NOT_SET, which is not set");
    }

    @Test
    void deliveryTimeoutMustCoverLingerAndRequestTimeout() {
        assertThatThrownBy(() -> settings(props("bootstrap.servers", "k:9092", "delivery.timeout.ms", "1000",
                "request.timeout.ms", "5000"))).hasMessageContaining("'delivery.timeout.ms' must be >= linger.ms + request.timeout.ms");
    }
}
