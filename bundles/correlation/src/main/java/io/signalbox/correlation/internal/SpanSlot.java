package io.signalbox.correlation.internal;

import io.signalbox.api.SpanInfo;
import io.signalbox.api.SpanNode;

/**
 * One span as the store holds it while the trace is live: what its {@code span} message said
 * ({@code info}, {@code null} while only its events or metrics have arrived: an open span) and
 * the events and metrics sent with its span id. Guarded by the owning {@link TraceEntry}'s monitor.
 */
final class SpanSlot {
    final String spanId;
    String parentSpanId;
    String source;
    SpanInfo info;
    /** Smallest and largest timestamp of its events and metrics: the extent of an open span. */
    private long firstTs = Long.MAX_VALUE;
    private long lastTs = Long.MIN_VALUE;
    /** Created with the first event / metric. */
    KeptMessages events;
    KeptMessages metrics;

    SpanSlot(String spanId, String parentSpanId, String source, SpanInfo info) {
        this.spanId = spanId;
        this.parentSpanId = parentSpanId;
        this.source = source;
        this.info = info;
    }

    /** The span message of a slot its events opened: the span message's fields win. */
    void complete(String parentSpanId, String source, SpanInfo info) {
        this.parentSpanId = parentSpanId;
        this.source = source;
        this.info = info;
    }

    void touch(long ts) {
        if (ts < firstTs) {
            firstTs = ts;
        }
        if (ts > lastTs) {
            lastTs = ts;
        }
    }

    /** The events kept, created when the first one is. */
    KeptMessages events() {
        return events != null ? events : (events = new KeptMessages());
    }

    /** The metrics kept, created when the first one is. */
    KeptMessages metrics() {
        return metrics != null ? metrics : (metrics = new KeptMessages());
    }

    /** A copy for tree building, taken under the trace's monitor. */
    SpanRecord snapshot() {
        SpanInfo i = info != null ? info : new SpanInfo(null, SpanNode.OPEN, firstTs, Math.max(firstTs, lastTs));
        return new SpanRecord(spanId, parentSpanId, source, i, KeptMessages.snapshot(events),
                KeptMessages.snapshot(metrics), KeptMessages.cutCount(events), KeptMessages.cutCount(metrics));
    }
}
