package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;
import io.signalbox.api.StatsSource;

final class TestSupport {
    private TestSupport() {
    }

    // --- messages --------------------------------------------------------------------------

    static Message message(String source, MessageType type, int seq) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + seq + ",\"type\":\"" + type.wireName()
                + "\",\"data\":{\"seq\":" + seq + "}}";
        return new Message(source, seq, type, null, null, null, type == MessageType.EVENT ? "info" : null, null,
                line.getBytes(StandardCharsets.UTF_8));
    }

    static Batch batch(String source, MessageType... types) {
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            messages.add(message(source, types[i], i));
        }
        return new Batch(source, messages);
    }

    /** Events with timestamps {@code first}, {@code first + 1} … */
    static Batch events(String source, int first, int count) {
        List<Message> messages = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            messages.add(message(source, MessageType.EVENT, i));
        }
        return new Batch(source, messages);
    }

    /** The timestamps of {@code messages} (the sequence numbers of {@link #events}), in order. */
    static List<Long> seqs(List<Message> messages) {
        List<Long> out = new ArrayList<>();
        for (Message m : messages) {
            out.add(m.timestamp());
        }
        return out;
    }

    /** {@code from}, {@code from + 1} … {@code to - 1}. */
    static List<Long> range(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (long i = from; i < to; i++) {
            out.add(i);
        }
        return out;
    }

    // --- settings --------------------------------------------------------------------------

    static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    static RoutingEngine.Config engineConfig(Map<String, Object> map) {
        return Converters.standardConverter().convert(map).to(RoutingEngine.Config.class);
    }

    /** Validated settings of a configuration given as key/value pairs. */
    static RoutingSettings settings(Object... keyValues) {
        Map<String, Object> m = map(keyValues);
        return RoutingSettings.of(engineConfig(m), m);
    }

    private static final RoutingSettings DEFAULTS = settings();

    /**
     * The defaults with a spool bound in bytes (the configuration counts MiB) and
     * {@code spool.fsync=never}: for spool tests.
     */
    static RoutingSettings spoolSettings(long maxBytes, long segmentBytes) {
        RoutingSettings d = DEFAULTS;
        return new RoutingSettings(d.drainTimeoutMillis(), d.retryInitialMillis(), d.retryMaxMillis(),
                d.breakerFailures(), d.breakerErrorRate(), d.breakerWindow(), d.breakerOpenMillis(), d.queueMessages(),
                d.spillAfterMillis(), d.replayRate(), d.spoolDir(), maxBytes, segmentBytes, Spool.Fsync.NEVER,
                d.spoolFsyncIntervalMillis(), d.deadLetterDir(), d.channelThreads(), d.maxInFlight());
    }

    // --- engines ---------------------------------------------------------------------------

    static void bind(RoutingEngine engine, String name, Backend backend) {
        engine.bindBackend(backend, Map.of(Backend.NAME, name));
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting until " + what);
            }
            LockSupport.parkNanos(1_000_000L); // polling interval
        }
    }

    /** The value of one series with exactly these labels (name/value pairs). */
    static long stat(StatsSource source, String name, String... labels) {
        return (long) MetricSamples.of(source).value(name, labels);
    }

    /** The value of one series of backend {@code backend}. */
    static long backendStat(StatsSource source, String name, String backend) {
        return stat(source, name, "backend", backend);
    }

    /**
     * The engines of one test ({@code @RegisterExtension}), deactivated after it, with their spools
     * and dead letters in a directory of the test's own, fast retries and a short drain timeout;
     * and the count of delivered callbacks of the batches routed through {@link #route}.
     */
    static final class Engines implements AfterEachCallback {
        private final List<RoutingEngine> started = new ArrayList<>();
        private final AtomicInteger delivered = new AtomicInteger();
        private Path dir;

        /** The test's directory: {@code spool/} and {@code deadletter/} of the engines are in it. */
        Path dir() {
            if (dir == null) {
                try {
                    dir = Files.createTempDirectory("signalbox-routing-test");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return dir;
        }

        /** An engine with the test settings, overridden by {@code settings} (key/value pairs). */
        RoutingEngine start(Object... settings) {
            Map<String, Object> m = map("retry.initial.ms", 5, "retry.max.ms", 20, "drain.timeout.seconds", 5,
                    "spool.dir", dir().resolve("spool").toString(), "deadletter.dir",
                    dir().resolve("deadletter").toString(), "replay.rate", 0);
            m.putAll(map(settings));
            RoutingEngine e = new RoutingEngine(engineConfig(m));
            started.add(e);
            return e;
        }

        /** Deactivates {@code engine} now (a restart), not again after the test. */
        void stop(RoutingEngine engine) {
            started.remove(engine);
            engine.deactivate();
        }

        /** Routes {@code batch}; its callback counts in {@link #delivered()}. */
        void route(RoutingEngine engine, Batch batch) {
            engine.route(batch, delivered::incrementAndGet);
        }

        int delivered() {
            return delivered.get();
        }

        /** {@link TestSupport#await}, with the delivered callbacks and the engine's series in the failure message. */
        void await(RoutingEngine engine, String what, BooleanSupplier condition) {
            try {
                TestSupport.await(what, condition);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; delivered callbacks " + delivered.get() + "; series "
                        + MetricSamples.of(engine), e);
            }
        }

        @Override
        public void afterEach(ExtensionContext context) throws IOException {
            for (RoutingEngine e : started) {
                e.deactivate();
            }
            started.clear();
            if (dir != null) {
                try (Stream<Path> all = Files.walk(dir)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}
