package io.signalbox.correlation.internal;

import io.signalbox.api.SpanInfo;

/**
 * One span as stored: what a {@code span} message said, nothing derived.
 *
 * @param spanId       {@code sid}, may be {@code null}
 * @param parentSpanId {@code pid}, may be {@code null}
 * @param source       the reporting source
 * @param info         name, status, start, end
 */
record SpanRecord(String spanId, String parentSpanId, String source, SpanInfo info) {
}
