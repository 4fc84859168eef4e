package io.signalbox.api;

import java.util.List;

/**
 * One span of a trace tree.
 *
 * @param spanId       {@code sid}
 * @param parentSpanId {@code pid}, or {@code null} for a root
 * @param source       the source that reported the span
 * @param span         name, status, start and end
 * @param children     child spans ordered by start time
 */
public record SpanNode(String spanId, String parentSpanId, String source, SpanInfo span,
        List<SpanNode> children) {
}
