package io.signalbox.correlation.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import io.signalbox.api.Message;
import io.signalbox.api.Trace;
import io.signalbox.api.TraceStore;
import io.signalbox.api.TraceSummary;

/**
 * Recent traces, keyed by trace id, bounded by count and by time since the last update.
 *
 * <p>{@link #record} is on the ingest hot path: one map lookup and one short, normally
 * uncontended per-trace lock; trees are built only when queried. Events and metrics are kept
 * per span (by their {@code sid}) as references to the received messages, bounded per span and
 * per trace. {@link #sweep} (every second,
 * from the owner's scheduler) removes traces not updated for the TTL and then the least
 * recently updated ones above the count limit. Inserting a new trace also checks the count, so
 * a burst of new ids cannot grow the map much beyond the limit between sweeps.
 */
final class InMemoryTraceStore implements TraceStore {
    private final ConcurrentHashMap<String, TraceEntry> traces = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private final AtomicBoolean evicting = new AtomicBoolean();
    private final LongAdder spansDropped = new LongAdder();
    private final LongAdder evictedTtl = new LongAdder();
    private final LongAdder evictedCapacity = new LongAdder();
    private volatile TraceLimits limits;

    /** @param clock current time in epoch millis (injectable for tests) */
    InMemoryTraceStore(TraceLimits limits, LongSupplier clock) {
        this.clock = clock;
        configure(limits);
    }

    /** New limits; applied from the next message (spans, events and metrics) or the next sweep (count, TTL). */
    void configure(TraceLimits limits) {
        this.limits = limits;
    }

    /** Records a message if it carries a trace id. Never throws for any valid message. */
    void record(Message m) {
        String traceId = m.traceId();
        if (traceId == null) {
            return;
        }
        TraceLimits l = limits;
        long now = clock.getAsLong();
        for (;;) {
            TraceEntry entry = traces.get(traceId);
            if (entry == null) {
                TraceEntry created = new TraceEntry(traceId, now);
                entry = traces.putIfAbsent(traceId, created);
                if (entry == null) {
                    entry = created;
                    if (traces.size() > l.evictAbove()) {
                        evictOverCapacity(l.maxTraces());
                    }
                }
            }
            int result = entry.add(m, now, l.maxSpans(), l.maxPerSpan(), l.maxMessages());
            if (result == TraceEntry.ADDED) {
                return;
            }
            if (result == TraceEntry.SPAN_DROPPED) {
                spansDropped.increment();
                return;
            }
            // retired by an eviction between lookup and lock: the id starts a new entry
        }
    }

    /** Removes expired traces, then the least recently updated ones above the count limit. */
    void sweep() {
        TraceLimits l = limits;
        long expiredAtOrBefore = clock.getAsLong() - l.ttlMillis();
        for (TraceEntry e : traces.values()) {
            if (e.retireIfNotUpdatedSince(expiredAtOrBefore)) {
                traces.remove(e.traceId, e);
                evictedTtl.increment();
            }
        }
        if (traces.size() > l.maxTraces()) {
            evictOverCapacity(l.maxTraces());
        }
    }

    /** Evicts least recently updated traces until at most {@code max} remain; one thread at a time, others skip. */
    private void evictOverCapacity(int max) {
        if (!evicting.compareAndSet(false, true)) {
            return;
        }
        try {
            int excess = traces.size() - max;
            if (excess <= 0) {
                return;
            }
            List<TraceEntry> entries = new ArrayList<>(traces.values());
            int n = entries.size();
            long[] keyed = new long[n];
            long oldest = Long.MAX_VALUE;
            long newest = Long.MIN_VALUE;
            for (int i = 0; i < n; i++) {
                long t = entries.get(i).lastUpdate();
                keyed[i] = t;
                oldest = Math.min(oldest, t);
                newest = Math.max(newest, t);
            }
            for (int k : leastRecentFirst(keyed, oldest, newest)) {
                if (excess <= 0) {
                    break;
                }
                TraceEntry e = entries.get(k);
                // skip one that was updated since the snapshot: it is no longer least recent
                if (e.retireIfNotUpdatedSince(keyed[k])) {
                    traces.remove(e.traceId, e);
                    evictedCapacity.increment();
                    excess--;
                }
            }
        } finally {
            evicting.set(false);
        }
    }

    /**
     * The indexes of {@code keyed} in ascending order of their values (ties by index). Runs on the
     * ingest path every few thousand new traces: (value - min, index) pairs packed into one
     * {@code long} and sorted as primitives, where a sort of boxed indexes with a comparator took
     * ~1.5 % of an I/O thread's time at full speed; boxed only if the values spread too far to pack.
     */
    static int[] leastRecentFirst(long[] keyed, long min, long max) {
        int n = keyed.length;
        int[] order = new int[n];
        if (n == 0) {
            return order;
        }
        long range = max - min;
        if (range >= 0 && range < Long.MAX_VALUE / n) {
            long[] packed = new long[n];
            for (int i = 0; i < n; i++) {
                packed[i] = (keyed[i] - min) * n + i;
            }
            Arrays.sort(packed);
            for (int i = 0; i < n; i++) {
                order[i] = (int) (packed[i] % n);
            }
            return order;
        }
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> Long.compare(keyed[a], keyed[b]));
        for (int i = 0; i < n; i++) {
            order[i] = boxed[i];
        }
        return order;
    }

    @Override
    public Optional<Trace> trace(String traceId) {
        if (traceId == null) {
            return Optional.empty();
        }
        TraceEntry e = traces.get(traceId);
        return e == null ? Optional.empty() : Optional.of(e.toTrace());
    }

    @Override
    public List<TraceSummary> recent(int limit) {
        if (limit <= 0) {
            return List.of();
        }
        List<TraceEntry> entries = new ArrayList<>(traces.values());
        int n = entries.size();
        long[] updated = new long[n];
        TraceSummary[] summaries = new TraceSummary[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            TraceEntry e = entries.get(i);
            updated[i] = e.lastUpdate();
            summaries[i] = e.summary();
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Long.compare(updated[b], updated[a]);
            return c != 0 ? c : Long.compare(summaries[b].lastSeen(), summaries[a].lastSeen());
        });
        List<TraceSummary> result = new ArrayList<>(Math.min(limit, n));
        for (int k = 0; k < n && k < limit; k++) {
            result.add(summaries[order[k]]);
        }
        return List.copyOf(result);
    }

    @Override
    public int size() {
        return traces.size();
    }

    long spansDropped() {
        return spansDropped.sum();
    }

    long evictedByTtl() {
        return evictedTtl.sum();
    }

    long evictedByCapacity() {
        return evictedCapacity.sum();
    }
}
