package io.signalbox.sdk;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * A fake sidecar for the delivery scenario: records every line, may close each connection after
 * N lines, can be stopped (down) and started again on the same port.
 */
interface FakeSidecar extends AutoCloseable {
    /** Binds (the same port again after a stop) and accepts; returns this. */
    FakeSidecar start() throws IOException;

    /** Closes the listener and every connection. */
    void stop() throws IOException;

    /** Close each connection after this many lines from the next start on (0: never). */
    void dropAfter(int lines);

    int port();

    /** Every line received so far, all connections, in arrival order. */
    List<String> lines() throws IOException;

    /** Polls until some recorded line matches, at most {@code timeout}. */
    default boolean awaitLine(Predicate<String> match, Duration timeout) {
        return Poll.until(timeout, () -> {
            try {
                return lines().stream().anyMatch(match);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Override
    default void close() throws IOException {
        stop();
    }
}
