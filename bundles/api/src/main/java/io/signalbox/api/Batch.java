package io.signalbox.api;

import java.util.List;
import java.util.Objects;

/**
 * Messages of one source, in the order they were received, handed on together.
 *
 * @param source        the source every message in the batch has
 * @param messages      the messages; an unmodifiable list
 * @param receivedNanos {@link System#nanoTime()} when the oldest message of the batch was
 *                      received, for the pipeline latency (receive → backend commit); 0 if unknown
 */
public record Batch(String source, List<Message> messages, long receivedNanos) {
    public Batch {
        Objects.requireNonNull(source, "source");
        messages = List.copyOf(messages);
    }

    /** A batch whose receive time is unknown. */
    public Batch(String source, List<Message> messages) {
        this(source, messages, 0);
    }

    public int size() {
        return messages.size();
    }

    public boolean isEmpty() {
        return messages.isEmpty();
    }
}
