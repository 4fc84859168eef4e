package io.signalbox.api;

import java.util.List;
import java.util.Objects;

/**
 * Messages of one source, in the order they were received, handed on together.
 *
 * @param source   the source every message in the batch has
 * @param messages the messages; an unmodifiable list
 */
public record Batch(String source, List<Message> messages) {
    public Batch {
        Objects.requireNonNull(source, "source");
        messages = List.copyOf(messages);
    }

    public int size() {
        return messages.size();
    }

    public boolean isEmpty() {
        return messages.isEmpty();
    }
}
