package io.signalbox.backend.kafka.internal;

import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;

/**
 * A validated Kafka backend configuration: the backend's own keys through {@link ConfigValues}
 * (unknown keys, types, ranges), the topic template, and the {@code kafka.*} pass-through keys
 * (each must be a producer property Kafka knows, not one a first-class key sets; {@code ${env:NAME}}
 * resolved). The resulting producer properties are then checked by Kafka itself
 * ({@link ProducerConfig}), so a bad value is a rejection naming it, not a failing write later.
 *
 * @param bootstrapServers {@code bootstrap.servers}
 * @param topic            the topic template
 * @param key              {@code tid}, {@code src} or {@code none}
 * @param headers          whether records carry {@code src} and {@code type} headers
 * @param producer         every producer property, pass-through included (values may be secrets: never log them)
 */
public record KafkaSettings(String bootstrapServers, TopicTemplate topic, String key, boolean headers,
        Map<String, Object> producer) {

    /** Producer properties a first-class key sets, and which key that is. */
    private static final Map<String, String> FIRST_CLASS = Map.of(
            "bootstrap.servers", "bootstrap.servers", "acks", "acks", "enable.idempotence", "idempotence",
            "compression.type", "compression", "linger.ms", "linger.ms", "batch.size", "batch.size",
            "delivery.timeout.ms", "delivery.timeout.ms", "request.timeout.ms", "request.timeout.ms",
            "max.block.ms", "max.block.ms");
    /** Set by the backend: records are bytes in, bytes out. */
    private static final Set<String> FIXED = Set.of("key.serializer", "value.serializer");

    public KafkaSettings {
        producer = Collections.unmodifiableMap(new HashMap<>(producer));
    }

    /** Validates the whole configuration with the process environment. */
    public static KafkaSettings of(KafkaConfig c, Map<String, ?> properties) {
        return of(c, properties, System::getenv);
    }

    /**
     * Validates the whole configuration.
     *
     * @param env resolves {@code ${env:NAME}} (tests pass their own)
     * @throws ConfigCheck.Rejected naming every problem
     */
    public static KafkaSettings of(KafkaConfig c, Map<String, ?> properties, Function<String, String> env) {
        // Kafka's config classes resolve class names through the thread's context class loader, even in
        // their static initialisers (sasl.oauthbearer.* defaults): under OSGi that must be this bundle's
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(KafkaSettings.class.getClassLoader());
        try {
            return check(c, properties, env);
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    private static KafkaSettings check(KafkaConfig c, Map<String, ?> properties, Function<String, String> env) {
        Map<String, Object> own = new HashMap<>();
        Map<String, Object> passThrough = new TreeMap<>();
        properties.forEach((k, val) -> {
            if (k.startsWith(KafkaConfig.PASS_THROUGH)) {
                passThrough.put(k, val);
            } else {
                own.put(k, val);
            }
        });
        ConfigValues v = ConfigValues.of(KafkaConfig.class, c, own, env);
        String servers = v.required("bootstrap.servers", c.bootstrap_servers(), "kafka1:9092,kafka2:9092");
        TopicTemplate topic = v.parse(() -> TopicTemplate.parse(ConfigValues.unquote(c.topic())));
        String key = v.oneOf("key", c.key(), "tid", "src", "none");
        String acks = v.oneOf("acks", c.acks(), "all", "1");
        v.check(!(c.idempotence() && acks.equals("1")), "'idempotence' = true needs acks=all (or set idempotence=false)");
        String compression = v.oneOf("compression", c.compression(), "none", "gzip", "snappy", "lz4", "zstd");
        int linger = v.range("linger.ms", c.linger_ms(), 0, 60_000);
        int batchSize = v.range("batch.size", c.batch_size(), 1, 64 * 1024 * 1024);
        int request = v.atLeast("request.timeout.ms", c.request_timeout_ms(), 1);
        int delivery = v.atLeast("delivery.timeout.ms", c.delivery_timeout_ms(), 1);
        v.check((long) delivery >= (long) linger + request, "'delivery.timeout.ms' must be >= linger.ms + request.timeout.ms ("
                + ((long) linger + request) + "), is " + delivery);
        long maxBlock = v.atLeast("max.block.ms", c.max_block_ms(), 0);

        Map<String, Object> producer = new HashMap<>();
        producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        producer.put(ProducerConfig.ACKS_CONFIG, acks);
        producer.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, c.idempotence());
        producer.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        producer.put(ProducerConfig.LINGER_MS_CONFIG, linger);
        producer.put(ProducerConfig.BATCH_SIZE_CONFIG, batchSize);
        producer.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, request);
        producer.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, delivery);
        producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlock);
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        Set<String> known = ProducerConfig.configNames();
        for (Map.Entry<String, Object> e : passThrough.entrySet()) {
            String name = e.getKey().substring(KafkaConfig.PASS_THROUGH.length());
            if (FIRST_CLASS.containsKey(name)) {
                v.problem("'" + e.getKey() + "' is set by '" + FIRST_CLASS.get(name) + "': use that key");
            } else if (FIXED.contains(name)) {
                v.problem("'" + e.getKey() + "' cannot be configured: records are written as bytes");
            } else if (!known.contains(name) && !name.startsWith("config.providers.")) {
                v.problem("'" + e.getKey() + "' is not a Kafka producer property" + near(name, known));
            } else {
                producer.put(name, v.secret(e.getKey(), String.valueOf(single(e.getValue()))));
            }
        }
        if (v.problems().isEmpty()) {
            // Kafka's own check of every value (types, enums, SASL/TLS combinations), with the
            // bundle's class loader for the classes it names
            v.parse(() -> checkedByKafka(producer));
        }
        v.done();
        return new KafkaSettings(servers, topic, key, c.headers(), producer);
    }

    private static Object single(Object value) {
        if (value instanceof String[] a) {
            return a.length == 0 ? "" : a[0];
        }
        return value;
    }

    private static Void checkedByKafka(Map<String, Object> producer) {
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(KafkaSettings.class.getClassLoader());
        try {
            new ProducerConfig(producer);
            return null;
        } catch (ConfigException e) {
            throw new IllegalArgumentException("Kafka refuses the producer configuration: " + e.getMessage());
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    private static String near(String name, Set<String> known) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (String k : new TreeSet<>(known)) {
            if (k.equals(lower)) {
                return " (did you mean 'kafka." + k + "'?)";
            }
        }
        return " (see the producer configuration of Apache Kafka)";
    }

    /** The settings for the log: no pass-through values (they may be secrets), only their names. */
    String describe() {
        TreeSet<String> passed = new TreeSet<>();
        for (String k : producer.keySet()) {
            if (!FIRST_CLASS.containsKey(k) && !FIXED.contains(k) && !k.equals(ProducerConfig.CLIENT_ID_CONFIG)) {
                passed.add("kafka." + k);
            }
        }
        return "bootstrap.servers=" + bootstrapServers + ", topic=" + topic + ", key=" + key + ", acks="
                + producer.get(ProducerConfig.ACKS_CONFIG) + ", idempotence=" + producer.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)
                + ", compression=" + producer.get(ProducerConfig.COMPRESSION_TYPE_CONFIG) + ", headers=" + headers
                + ", linger.ms=" + producer.get(ProducerConfig.LINGER_MS_CONFIG) + ", batch.size="
                + producer.get(ProducerConfig.BATCH_SIZE_CONFIG) + ", delivery.timeout.ms="
                + producer.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG) + ", pass-through=" + passed;
    }

    @Override
    public String toString() {
        return "KafkaSettings[" + describe() + "]";
    }
}
