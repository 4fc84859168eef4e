package io.signalbox.backend.s3.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import io.signalbox.api.FakeFramework;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

final class Fixtures extends FakeFramework {
    private Fixtures() {
    }

    static S3Config config(Map<String, ?> map) {
        return config(S3Config.class, map);
    }

    static S3Settings settings(Map<String, ?> map) {
        return S3Settings.of(config(map), map, name -> null);
    }

    static String text(String source, int i) {
        return "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + (1700000000000L + i)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"n° " + i + " ✓ \\\"quoted\\\"\"}}";
    }

    static Batch batch(String source, int first, int count) {
        List<Message> messages = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            messages.add(new Message(source, 1700000000000L + i, MessageType.EVENT, null, null, null, "info", null,
                    text(source, i).getBytes(StandardCharsets.UTF_8)));
        }
        return new Batch(source, messages);
    }

    static List<String> texts(String source, int first, int count) {
        List<String> out = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            out.add(text(source, i));
        }
        return out;
    }

    /** Polls until the condition holds or the timeout passes (then fails with the description). */
    static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what, e);
            }
        }
    }
}
