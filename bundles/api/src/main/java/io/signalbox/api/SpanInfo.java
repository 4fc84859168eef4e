package io.signalbox.api;

/**
 * The span-specific part of a {@code span} message, extracted once by the decoder so the
 * trace store does not re-parse the line.
 *
 * @param name   span name
 * @param status span status, e.g. {@code ok} or {@code error}; may be {@code null}
 * @param start  start time, epoch milliseconds
 * @param end    end time, epoch milliseconds ({@code start + dur_ms} when only a duration was sent)
 */
public record SpanInfo(String name, String status, long start, long end) {
    /** Duration in milliseconds. */
    public long durationMillis() {
        return end - start;
    }
}
