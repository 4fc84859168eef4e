package io.signalbox.api;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One validated protocol v1 message.
 *
 * <p>The envelope fields are decoded once; the payload stays in {@link #line()}, the
 * canonical JSON line (without its newline). For lines written in the short v1 form that
 * is the original bytes as received, so backends that write JSON copy bytes and never
 * re-serialise. Lines in the long form of the earlier design are re-written once, by the
 * decoder, into the short form.
 *
 * <p>Instances are immutable. The array returned by {@link #line()} is shared, not copied:
 * callers must not modify it.
 */
public final class Message {
    private final String source;
    private final long timestamp;
    private final MessageType type;
    private final String traceId;
    private final String spanId;
    private final String parentSpanId;
    private final String level;
    private final SpanInfo span;
    private final byte[] line;

    /**
     * @param source       the {@code src} field, never {@code null}
     * @param timestamp    the {@code ts} field, epoch milliseconds
     * @param type         the {@code type} field, never {@code null}
     * @param traceId      {@code tid} or {@code null}
     * @param spanId       {@code sid} or {@code null}
     * @param parentSpanId {@code pid} or {@code null}
     * @param level        {@code data.level} of an {@code event}, else {@code null}
     * @param span         span details of a {@code span} message, else {@code null}
     * @param line         the canonical JSON line, UTF-8, without line terminator; not copied
     */
    public Message(String source, long timestamp, MessageType type, String traceId, String spanId,
            String parentSpanId, String level, SpanInfo span, byte[] line) {
        this.source = Objects.requireNonNull(source, "source");
        this.timestamp = timestamp;
        this.type = Objects.requireNonNull(type, "type");
        this.traceId = traceId;
        this.spanId = spanId;
        this.parentSpanId = parentSpanId;
        this.level = level;
        this.span = span;
        this.line = Objects.requireNonNull(line, "line");
    }

    public String source() {
        return source;
    }

    /** Event time, epoch milliseconds. */
    public long timestamp() {
        return timestamp;
    }

    public MessageType type() {
        return type;
    }

    public String traceId() {
        return traceId;
    }

    public String spanId() {
        return spanId;
    }

    public String parentSpanId() {
        return parentSpanId;
    }

    /** The level of an {@code event} ({@code debug} … {@code fatal}), {@code null} otherwise. */
    public String level() {
        return level;
    }

    /** Span details of a {@code span} message, {@code null} otherwise. */
    public SpanInfo span() {
        return span;
    }

    /** The canonical JSON line, UTF-8, without terminator. Shared: do not modify. */
    public byte[] line() {
        return line;
    }

    /** Critical events ({@code error}, {@code fatal}) are flushed at once, not batched. */
    public boolean isCritical() {
        return type == MessageType.EVENT && ("error".equals(level) || "fatal".equals(level));
    }

    @Override
    public String toString() {
        return new String(line, StandardCharsets.UTF_8);
    }
}
