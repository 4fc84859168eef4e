package io.signalbox.correlation.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.signalbox.api.Message;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceSummary;

/**
 * What the store holds for one trace id: counters, sources, time range and the raw span
 * records. Guarded by its own monitor, held for one short update per message; the tree is
 * only built on query, from a copy.
 */
final class TraceEntry {
    /** {@link #add} results. */
    static final int ADDED = 0;
    static final int SPAN_DROPPED = 1;
    static final int RETIRED = 2;

    final String traceId;
    private final Set<String> sources = new HashSet<>(4);
    private String lastSource;
    private final ArrayList<SpanRecord> spans = new ArrayList<>(0);
    private long messageCount;
    private int spansSeen;
    private long firstSeen = Long.MAX_VALUE;
    private long lastSeen = Long.MIN_VALUE;
    /** Store clock (millis) of the last update: what TTL, LRU eviction and {@code recent} go by. */
    private long lastUpdate;
    private boolean retired;

    TraceEntry(String traceId, long nowMillis) {
        this.traceId = traceId;
        this.lastUpdate = nowMillis;
    }

    /**
     * Records one message carrying this trace id.
     *
     * @return {@link #ADDED}, {@link #SPAN_DROPPED} if the message was a span beyond
     *         {@code maxSpans} (counted, not stored) or {@link #RETIRED} if this entry was evicted
     *         meanwhile (nothing recorded: look the trace up again)
     */
    synchronized int add(Message m, long nowMillis, int maxSpans) {
        if (retired) {
            return RETIRED;
        }
        messageCount++;
        lastUpdate = nowMillis;
        long ts = m.timestamp();
        if (ts < firstSeen) {
            firstSeen = ts;
        }
        if (ts > lastSeen) {
            lastSeen = ts;
        }
        String source = m.source();
        if (!source.equals(lastSource)) {
            sources.add(source);
            lastSource = source;
        }
        if (m.span() == null) {
            return ADDED;
        }
        spansSeen++;
        if (spans.size() >= maxSpans) {
            return SPAN_DROPPED;
        }
        spans.add(new SpanRecord(m.spanId(), m.parentSpanId(), source, m.span()));
        return ADDED;
    }

    /** Retires this entry if it was not updated after {@code notAfterMillis}. */
    synchronized boolean retireIfNotUpdatedSince(long notAfterMillis) {
        if (retired || lastUpdate > notAfterMillis) {
            return false;
        }
        retired = true;
        return true;
    }

    synchronized long lastUpdate() {
        return lastUpdate;
    }

    synchronized TraceSummary summary() {
        return new TraceSummary(traceId, spansSeen, messageCount, firstSeen, lastSeen);
    }

    /** The trace with its span tree, built outside the monitor from a copy of the records. */
    Trace toTrace() {
        List<SpanRecord> records;
        Set<String> src;
        long count;
        int seen;
        long first;
        long last;
        synchronized (this) {
            records = new ArrayList<>(spans);
            src = Set.copyOf(sources);
            count = messageCount;
            seen = spansSeen;
            first = firstSeen;
            last = lastSeen;
        }
        return new Trace(traceId, SpanTrees.build(records), seen, count, src, first, last);
    }
}
