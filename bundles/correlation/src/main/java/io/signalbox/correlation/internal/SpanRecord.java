package io.signalbox.correlation.internal;

import java.util.List;

import io.signalbox.api.Message;
import io.signalbox.api.SpanInfo;

/**
 * One span as copied out of the store for a query: what a {@code span} message said, and the
 * events and metrics kept for it.
 *
 * @param spanId       {@code sid}, may be {@code null}
 * @param parentSpanId {@code pid}, may be {@code null}
 * @param source       the reporting source
 * @param info         name, status, start, end (of an open span: see {@link io.signalbox.api.SpanNode})
 * @param events       kept events
 * @param metrics      kept metrics
 * @param eventsCut    events not kept
 * @param metricsCut   metrics not kept
 */
record SpanRecord(String spanId, String parentSpanId, String source, SpanInfo info, List<Message> events,
        List<Message> metrics, long eventsCut, long metricsCut) {

    /** A span without events or metrics. */
    SpanRecord(String spanId, String parentSpanId, String source, SpanInfo info) {
        this(spanId, parentSpanId, source, info, List.of(), List.of(), 0, 0);
    }
}
