package io.signalbox.routing.internal;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.osgi.util.converter.Converters;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class TestSupport {
    private TestSupport() {
    }

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

    static Batch events(String source, int first, int count) {
        List<Message> messages = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            messages.add(message(source, MessageType.EVENT, i));
        }
        return new Batch(source, messages);
    }

    static RoutingEngine.Config engineConfig(Map<String, Object> map) {
        return Converters.standardConverter().convert(map).to(RoutingEngine.Config.class);
    }

    /** An engine with fast retries, a short drain timeout and its spools in a new temporary directory. */
    static RoutingEngine engine() {
        try {
            return engine(Files.createTempDirectory("signalbox-routing-test"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An engine with fast retries, a short drain timeout and its spools in {@code spoolDir}. */
    static RoutingEngine engine(Path spoolDir) {
        return new RoutingEngine(engineConfig(Map.of("retry.initial.ms", 5, "retry.max.ms", 20,
                "drain.timeout.seconds", 5, "spool.dir", spoolDir.toString())));
    }

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

    static long stat(RoutingEngine engine, String key) {
        Number n = engine.stats().get(key);
        if (n == null) {
            fail("no stat " + key + " in " + engine.stats());
        }
        return n.longValue();
    }
}
