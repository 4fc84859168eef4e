package io.signalbox.correlation.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.signalbox.api.MetricsSink;

/**
 * Messages accepted per source since start ({@value #RECEIVED}{@code {source}}), kept across the
 * source's buffers: a buffer retired while its source is idle hands the same counter to the next.
 * Sources beyond {@value #MAX_SOURCE_SERIES} share one counter, labelled {@value #OTHER_SOURCES},
 * so that a client inventing source names cannot grow the metrics without bound.
 */
final class ReceivedCounters {
    static final String RECEIVED = "signalbox_messages_received_total";
    static final String BUFFER_SIZE = "signalbox_buffer_size";
    /** Sources with their own received series; further ones are counted under {@value #OTHER_SOURCES}. */
    static final int MAX_SOURCE_SERIES = 10_000;
    static final String OTHER_SOURCES = "_other";

    private final ConcurrentHashMap<String, AtomicLong> bySource = new ConcurrentHashMap<>();
    private final AtomicLong other = new AtomicLong();

    /** The counter of {@code source}, for its new buffer (not looked up per message). */
    AtomicLong of(String source) {
        AtomicLong c = bySource.get(source);
        if (c != null) {
            return c;
        }
        if (bySource.size() >= MAX_SOURCE_SERIES) {
            return other;
        }
        return bySource.computeIfAbsent(source, s -> new AtomicLong());
    }

    /**
     * {@value #RECEIVED} and {@value #BUFFER_SIZE} per source with a series of its own ({@code 0}
     * pending while it has no buffer), then {@value #OTHER_SOURCES}'s received count if any.
     */
    void collect(MetricsSink sink, Map<String, SourceBuffer> buffers) {
        bySource.forEach((source, received) -> {
            SourceBuffer buffer = buffers.get(source);
            sink.counter(RECEIVED, received.get(), "source", source);
            sink.gauge(BUFFER_SIZE, buffer == null ? 0 : buffer.pending(), "source", source);
        });
        if (other.get() > 0) {
            sink.counter(RECEIVED, other.get(), "source", OTHER_SOURCES);
        }
    }
}
