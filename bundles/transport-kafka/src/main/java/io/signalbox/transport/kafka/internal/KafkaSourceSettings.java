package io.signalbox.transport.kafka.internal;

import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;

/**
 * A validated Kafka transport configuration: its own keys through {@link ConfigValues}, the
 * {@code kafka.*} pass-through keys (consumer properties Kafka knows and no first-class key sets;
 * {@code ${env:NAME}} resolved), and then Kafka's own check of the consumer properties.
 *
 * @param topics        the topics
 * @param groupId       the consumer group
 * @param maxUncommitted records read and not committed, at most (then reading pauses)
 * @param commitInterval how often delivered offsets are committed
 * @param maxLineLength longest record value taken
 * @param closeTimeout  how long a stop waits for delivery before the last commit
 * @param consumer      every consumer property (values may be secrets: never log them)
 */
public record KafkaSourceSettings(List<String> topics, String groupId, int maxUncommitted, Duration commitInterval,
        int maxLineLength, Duration closeTimeout, Map<String, Object> consumer) {

    private static final Map<String, String> FIRST_CLASS = Map.of("bootstrap.servers", "bootstrap.servers",
            "group.id", "group.id", "auto.offset.reset", "auto.offset.reset", "max.poll.records", "max.poll.records");
    /** Set by the transport: offsets are committed by it, records are bytes. */
    private static final Set<String> FIXED = Set.of("enable.auto.commit", "key.deserializer", "value.deserializer");

    public KafkaSourceSettings {
        topics = List.copyOf(topics);
        consumer = Collections.unmodifiableMap(new HashMap<>(consumer));
    }

    public static KafkaSourceSettings of(KafkaSourceConfig c, Map<String, ?> properties) {
        return of(c, properties, System::getenv);
    }

    /** @throws ConfigCheck.Rejected naming every problem */
    public static KafkaSourceSettings of(KafkaSourceConfig c, Map<String, ?> properties, Function<String, String> env) {
        // Kafka's config classes resolve class names through the thread's context class loader, even in
        // their static initialisers (sasl.oauthbearer.* defaults): under OSGi that must be this bundle's
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(KafkaSourceSettings.class.getClassLoader());
        try {
            return check(c, properties, env);
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    private static KafkaSourceSettings check(KafkaSourceConfig c, Map<String, ?> properties, Function<String, String> env) {
        Map<String, Object> own = new HashMap<>();
        Map<String, Object> passThrough = new TreeMap<>();
        properties.forEach((k, val) -> (k.startsWith(KafkaSourceConfig.PASS_THROUGH) ? passThrough : own).put(k, val));
        ConfigValues v = ConfigValues.of(KafkaSourceConfig.class, c, own, env);
        String servers = v.required("bootstrap.servers", c.bootstrap_servers(), "kafka1:9092,kafka2:9092");
        List<String> topics = new java.util.ArrayList<>();
        for (String t : c.topics()) {
            String u = ConfigValues.unquote(t);
            // fileinstall hands a list over as its literal text ["a","b"] when another value of the
            // file is not in its typed syntax
            if (u.startsWith("[") && u.endsWith("]")) {
                for (String part : u.substring(1, u.length() - 1).split(",")) {
                    String q = ConfigValues.unquote(part);
                    if (!q.isEmpty()) {
                        topics.add(q);
                    }
                }
            } else if (!u.isEmpty()) {
                topics.add(u);
            }
        }
        for (String t : topics) {
            v.check(t.matches("[a-zA-Z0-9._-]{1,249}") && !t.equals(".") && !t.equals(".."),
                    "'topics' entry \"" + t + "\" is not a valid Kafka topic name (a-z A-Z 0-9 . _ -, at most 249)");
        }
        v.check(!topics.isEmpty(), "'topics' is required, e.g. topics=[\"signalbox\"]");
        String group = v.required("group.id", c.group_id(), "signalbox-aggregators");
        String reset = v.oneOf("auto.offset.reset", c.auto_offset_reset(), "earliest", "latest");
        int maxUncommitted = v.range("max.uncommitted", c.max_uncommitted(), 1, 10_000_000);
        int maxPoll = v.range("max.poll.records", c.max_poll_records(), 1, 100_000);
        long commit = v.range("commit.interval.ms", c.commit_interval_ms(), 1, 3_600_000);
        int maxLine = v.range("max.line.length", c.max_line_length(), 64, 64 * 1024 * 1024);
        long close = v.atLeast("close.timeout.ms", c.close_timeout_ms(), 0);

        Map<String, Object> consumer = new HashMap<>();
        consumer.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        consumer.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        consumer.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPoll);
        consumer.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        Set<String> known = ConsumerConfig.configNames();
        for (Map.Entry<String, Object> e : passThrough.entrySet()) {
            String name = e.getKey().substring(KafkaSourceConfig.PASS_THROUGH.length());
            if (FIRST_CLASS.containsKey(name)) {
                v.problem("'" + e.getKey() + "' is set by '" + FIRST_CLASS.get(name) + "': use that key");
            } else if (FIXED.contains(name)) {
                v.problem("'" + e.getKey() + "' cannot be configured: the transport commits offsets itself and reads bytes");
            } else if (!known.contains(name) && !name.startsWith("config.providers.")) {
                v.problem("'" + e.getKey() + "' is not a Kafka consumer property");
            } else {
                Object raw = e.getValue() instanceof String[] a ? (a.length == 0 ? "" : a[0]) : e.getValue();
                consumer.put(name, v.secret(e.getKey(), String.valueOf(raw)));
            }
        }
        if (v.problems().isEmpty()) {
            v.parse(() -> checkedByKafka(consumer));
        }
        v.done();
        return new KafkaSourceSettings(topics, group, maxUncommitted, Duration.ofMillis(commit), maxLine,
                Duration.ofMillis(close), consumer);
    }

    private static Void checkedByKafka(Map<String, Object> consumer) {
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(KafkaSourceSettings.class.getClassLoader());
        try {
            new ConsumerConfig(consumer);
            return null;
        } catch (ConfigException e) {
            throw new IllegalArgumentException("Kafka refuses the consumer configuration: " + e.getMessage());
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    /** For the log: no pass-through values, only their names. */
    String describe() {
        TreeSet<String> passed = new TreeSet<>();
        for (String k : consumer.keySet()) {
            if (!FIRST_CLASS.containsKey(k) && !FIXED.contains(k)) {
                passed.add("kafka." + k);
            }
        }
        return "bootstrap.servers=" + consumer.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) + ", topics=" + topics
                + ", group.id=" + groupId + ", auto.offset.reset=" + consumer.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG)
                + ", max.uncommitted=" + maxUncommitted + ", max.poll.records=" + consumer.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)
                + ", commit.interval.ms=" + commitInterval.toMillis() + ", max.line.length=" + maxLineLength
                + ", pass-through=" + passed;
    }

    /** Records one poll returns at most. */
    int maxPollRecords() {
        return (Integer) consumer.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG);
    }
}
