package io.signalbox.api;

import java.util.List;

/**
 * One span of a trace tree.
 *
 * <p>A span whose {@code span} message has not arrived (yet), but whose events or metrics have
 * (it is still running, or its end was lost), is an <em>open</em> span: {@code span.name()} is
 * {@code null}, {@code span.status()} is {@code "open"}, and start and end are the smallest and
 * largest timestamps of its messages.
 *
 * @param spanId       {@code sid}
 * @param parentSpanId {@code pid}, or {@code null} for a root
 * @param source       the source that reported the span
 * @param span         name, status, start and end
 * @param children     child spans ordered by start time
 * @param events       {@code event} and {@code progress} messages sent in this span (same {@code sid}),
 *                     in arrival order; bounded by the store (e.g. 100 per span)
 * @param metrics      {@code metric} and {@code resource} messages sent in this span, likewise
 * @param eventsCut    events of this span received but not kept because a bound was reached
 * @param metricsCut   metrics of this span received but not kept because a bound was reached
 * @since 1.3 (events, metrics and the cut counts)
 */
public record SpanNode(String spanId, String parentSpanId, String source, SpanInfo span,
        List<SpanNode> children, List<Message> events, List<Message> metrics, long eventsCut, long metricsCut) {

    /** {@code span.status()} of an open span. */
    public static final String OPEN = "open";

    public SpanNode {
        events = events == null ? List.of() : events;
        metrics = metrics == null ? List.of() : metrics;
    }

    /** A span without events or metrics (API 1.0). */
    public SpanNode(String spanId, String parentSpanId, String source, SpanInfo span, List<SpanNode> children) {
        this(spanId, parentSpanId, source, span, children, List.of(), List.of(), 0, 0);
    }

    /** Whether only events or metrics of this span were seen, not the span message itself. */
    public boolean isOpen() {
        return span != null && span.name() == null && OPEN.equals(span.status());
    }
}
