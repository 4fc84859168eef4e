package io.signalbox.correlation.internal;

import io.signalbox.api.SpanInfo;
import io.signalbox.api.SpanNode;

/**
 * One span as the store holds it while the trace is live: what its {@code span} message said
 * (name, status, start and end, inline: a {@link SpanInfo} per span cost 40 bytes more; not
 * {@linkplain #complete() complete} while only its events or metrics have arrived: an open span)
 * and the events and metrics sent with its span id. Guarded by the owning {@link TraceEntry}'s monitor.
 */
final class SpanSlot {
    final String spanId;
    String parentSpanId;
    String source;
    /** The span message's name and status; {@code null} while open. */
    private String name;
    private String status;
    /**
     * A complete span's start and end; an open span's smallest and largest timestamp of its events
     * and metrics (its extent).
     */
    private long firstTs = Long.MAX_VALUE;
    private long lastTs = Long.MIN_VALUE;
    /** Its span message has arrived. */
    private boolean complete;
    /** Created with the first event / metric. */
    KeptMessages events;
    KeptMessages metrics;

    /** @param info the span message's details, or {@code null} for a span its events open */
    SpanSlot(String spanId, String parentSpanId, String source, SpanInfo info) {
        this.spanId = spanId;
        this.parentSpanId = parentSpanId;
        this.source = source;
        if (info != null) {
            set(info);
        }
    }

    /** Whether its span message has arrived (else it is open: only its events or metrics have). */
    boolean complete() {
        return complete;
    }

    /** The span message of a slot its events opened: the span message's fields win. */
    void complete(String parentSpanId, String source, SpanInfo info) {
        this.parentSpanId = parentSpanId;
        this.source = source;
        set(info);
    }

    private void set(SpanInfo info) {
        name = info.name();
        status = info.status();
        firstTs = info.start();
        lastTs = info.end();
        complete = true;
    }

    /** An event's or metric's time: the extent of an open span (a complete one has its own). */
    void touch(long ts) {
        if (complete) {
            return;
        }
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
        SpanInfo i = complete ? new SpanInfo(name, status, firstTs, lastTs)
                : new SpanInfo(null, SpanNode.OPEN, firstTs, Math.max(firstTs, lastTs));
        return new SpanRecord(spanId, parentSpanId, source, i, KeptMessages.snapshot(events),
                KeptMessages.snapshot(metrics), KeptMessages.cutCount(events), KeptMessages.cutCount(metrics));
    }
}
