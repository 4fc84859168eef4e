package io.signalbox.correlation.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Set;

import io.signalbox.api.Message;
import io.signalbox.api.SpanInfo;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceSource;
import io.signalbox.api.TraceSummary;

/**
 * What the store holds for one trace id: counters, per-source tallies, time range, the span
 * slots and the events and metrics sent in them. Guarded by its own monitor, held for one short
 * update per message; the tree is only built on query, from a copy.
 *
 * <p>Per message, {@link #add} allocates nothing of its own: a span costs its slot (as the span
 * record did before), a new source its tally, and kept events and metrics are references in
 * arrays that grow by doubling up to their bound.
 */
final class TraceEntry {
    /** {@link #add} results. */
    static final int ADDED = 0;
    static final int SPAN_DROPPED = 1;
    static final int RETIRED = 2;

    /** Source tallies searched linearly up to this many; beyond, through a map. */
    static final int LINEAR_TALLIES = 16;

    private static final Comparator<TraceSource> BY_START = Comparator.comparingLong(TraceSource::start)
            .thenComparing(TraceSource::source);

    final String traceId;
    /**
     * Per-source tallies in arrival order: an array searched linearly while small (a trace has a
     * handful of sources; a HashMap cost ~45 bytes more per source and ~130 per trace, which with
     * 10,000 sources and 10,000 traces of ten sources each was ~4 MiB of the old generation),
     * indexed by a map once it holds more than {@value #LINEAR_TALLIES}.
     */
    private SourceTally[] tallies = new SourceTally[2];
    private int tallyCount;
    /** Created when {@link #tallies} outgrows a linear search. */
    private HashMap<String, SourceTally> tallyIndex;
    private SourceTally lastTally;
    /** Spans in arrival order (a span first seen through its events sits where they arrived). */
    private final ArrayList<SpanSlot> spans = new ArrayList<>(0);
    /** Created with the first span id. */
    private SpanIndex bySpanId;
    /** Events and metrics that name no span (or one beyond the span limit); created when needed. */
    private KeptMessages events;
    private KeptMessages metrics;
    /** Events and metrics kept, all spans together: bounded by {@code maxMessages}. */
    private int kept;
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
     * @param maxSpans        spans kept (a span opened by its events counts)
     * @param maxPerSpan      events kept per span, and metrics kept per span (also for those naming no span)
     * @param maxMessages     events and metrics kept in the whole trace
     * @return {@link #ADDED}, {@link #SPAN_DROPPED} if the message was a span beyond
     *         {@code maxSpans} (counted, not stored) or {@link #RETIRED} if this entry was evicted
     *         meanwhile (nothing recorded: look the trace up again)
     */
    synchronized int add(Message m, long nowMillis, int maxSpans, int maxPerSpan, int maxMessages) {
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
        SourceTally tally = lastTally;
        if (tally == null || !source.equals(tally.source)) {
            tally = tally(source);
            lastTally = tally;
        }
        tally.message(ts);
        SpanInfo span = m.span();
        if (span != null) {
            spansSeen++;
            tally.span(span);
            return addSpan(m, span, maxSpans) ? ADDED : SPAN_DROPPED;
        }
        switch (m.type()) {
            case EVENT:
            case PROGRESS:
                keep(m, true, maxSpans, maxPerSpan, maxMessages);
                break;
            case METRIC:
            case RESOURCE:
                keep(m, false, maxSpans, maxPerSpan, maxMessages);
                break;
            default:
                break;
        }
        return ADDED;
    }

    /** The tally of {@code source}, created if it has none. */
    private SourceTally tally(String source) {
        SourceTally t;
        if (tallyIndex != null) {
            t = tallyIndex.get(source);
        } else {
            t = null;
            for (int i = 0; i < tallyCount; i++) {
                SourceTally c = tallies[i];
                if (c.source == source || c.source.equals(source)) {
                    t = c;
                    break;
                }
            }
        }
        if (t != null) {
            return t;
        }
        t = new SourceTally(source);
        if (tallyCount == tallies.length) {
            tallies = Arrays.copyOf(tallies, tallyCount * 2);
        }
        tallies[tallyCount++] = t;
        if (tallyIndex != null) {
            tallyIndex.put(source, t);
        } else if (tallyCount > LINEAR_TALLIES) {
            tallyIndex = new HashMap<>(tallyCount * 2);
            for (int i = 0; i < tallyCount; i++) {
                tallyIndex.put(tallies[i].source, tallies[i]);
            }
        }
        return t;
    }

    private boolean addSpan(Message m, SpanInfo span, int maxSpans) {
        String sid = m.spanId();
        SpanSlot slot = sid == null || bySpanId == null ? null : bySpanId.get(sid);
        if (slot != null && !slot.complete()) {
            // its events came first
            slot.complete(m.parentSpanId(), m.source(), span);
            return true;
        }
        if (spans.size() >= maxSpans) {
            return false;
        }
        SpanSlot created = new SpanSlot(sid, m.parentSpanId(), m.source(), span);
        spans.add(created);
        if (sid != null && slot == null) {
            index().add(created);
        }
        return true;
    }

    private void keep(Message m, boolean event, int maxSpans, int maxPerSpan, int maxMessages) {
        String sid = m.spanId();
        SpanSlot slot = null;
        if (sid != null) {
            slot = bySpanId == null ? null : bySpanId.get(sid);
            if (slot == null && spans.size() < maxSpans) {
                slot = new SpanSlot(sid, m.parentSpanId(), m.source(), null);
                spans.add(slot);
                index().add(slot);
            }
        }
        KeptMessages list;
        if (slot != null) {
            slot.touch(m.timestamp());
            list = event ? slot.events() : slot.metrics();
        } else {
            list = event ? traceEvents() : traceMetrics();
        }
        if (kept >= maxMessages) {
            list.cut();
        } else if (list.add(m, maxPerSpan)) {
            kept++;
        }
    }

    private SpanIndex index() {
        SpanIndex i = bySpanId;
        if (i == null) {
            i = new SpanIndex();
            bySpanId = i;
        }
        return i;
    }

    private KeptMessages traceEvents() {
        if (events == null) {
            events = new KeptMessages();
        }
        return events;
    }

    private KeptMessages traceMetrics() {
        if (metrics == null) {
            metrics = new KeptMessages();
        }
        return metrics;
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
        return new TraceSummary(traceId, spansSeen, messageCount, firstSeen, lastSeen, sourceNames(bySource()));
    }

    /** The trace with its span tree, built outside the monitor from a copy of the records. */
    Trace toTrace() {
        SpanRecord[] records;
        TraceSource[] bySource;
        long count;
        int seen;
        long first;
        long last;
        List<Message> ownEvents;
        List<Message> ownMetrics;
        long eventsCut;
        long metricsCut;
        synchronized (this) {
            records = new SpanRecord[spans.size()];
            for (int i = 0; i < records.length; i++) {
                records[i] = spans.get(i).snapshot();
            }
            bySource = bySource();
            count = messageCount;
            seen = spansSeen;
            first = firstSeen;
            last = lastSeen;
            ownEvents = KeptMessages.snapshot(events);
            ownMetrics = KeptMessages.snapshot(metrics);
            eventsCut = KeptMessages.cutCount(events);
            metricsCut = KeptMessages.cutCount(metrics);
        }
        return new Trace(traceId, SpanTrees.build(Arrays.asList(records)), seen, count,
                Set.copyOf(sourceNames(bySource)), first, last, List.of(bySource), ownEvents, ownMetrics,
                eventsCut, metricsCut);
    }

    /** Each source's share as it is now, by start then name; under the monitor. */
    private TraceSource[] bySource() {
        TraceSource[] t = new TraceSource[tallyCount];
        for (int i = 0; i < tallyCount; i++) {
            t[i] = tallies[i].summary();
        }
        Arrays.sort(t, BY_START);
        return t;
    }

    private static List<String> sourceNames(TraceSource[] bySource) {
        String[] names = new String[bySource.length];
        for (int i = 0; i < names.length; i++) {
            names[i] = bySource[i].source();
        }
        return List.of(names);
    }

    /** One source's share of the trace. */
    private static final class SourceTally {
        final String source;
        int spans;
        long messages;
        long firstTs = Long.MAX_VALUE;
        long lastTs = Long.MIN_VALUE;
        long spanStart = Long.MAX_VALUE;
        long spanEnd = Long.MIN_VALUE;

        SourceTally(String source) {
            this.source = source;
        }

        void message(long ts) {
            messages++;
            if (ts < firstTs) {
                firstTs = ts;
            }
            if (ts > lastTs) {
                lastTs = ts;
            }
        }

        void span(SpanInfo span) {
            spans++;
            if (span.start() < spanStart) {
                spanStart = span.start();
            }
            if (span.end() > spanEnd) {
                spanEnd = span.end();
            }
        }

        long start() {
            return spans > 0 ? spanStart : firstTs;
        }

        long end() {
            return spans > 0 ? Math.max(spanStart, spanEnd) : lastTs;
        }

        TraceSource summary() {
            return new TraceSource(source, spans, messages, start(), end());
        }
    }
}
