package io.signalbox.backend.cloudwatch.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.RateLimitedLog;

/**
 * Cuts a batch into PutLogEvents calls that honour the service contract, before anything is sent:
 * the messages are grouped by target (log group and stream from the templates, in the order the
 * targets first appear), sorted by timestamp (stable, so equal timestamps keep their order), and
 * cut into calls of at most {@code max.events.per.call} events and {@code max.bytes.per.call}
 * bytes (UTF-8 message bytes + 26 per event) whose events span less than 24 hours. Events larger
 * than {@code max.event.bytes} are left out, counted and logged (rate-limited).
 *
 * <p>Templates are expanded once per batch (and per message type if a template uses
 * {@code {type}}), never per message; the sorted list is the batch's own list unless it was out of
 * order (the common case costs no copy).
 */
final class CallPlanner {
    private static final long DAY_MILLIS = 24L * 60 * 60 * 1000;
    private static final Comparator<Message> BY_TIME = Comparator.comparingLong(Message::timestamp);

    /** One call: messages {@code from} (inclusive) to {@code to} (exclusive) of the sorted list. */
    record Chunk(List<Message> sorted, int from, int to, long bytes) {
        int size() {
            return to - from;
        }
    }

    /** One log stream's share of a batch, cut into calls. */
    record StreamPlan(String group, String stream, List<Chunk> chunks) {
        String key() {
            return group + '\u0000' + stream;
        }
    }

    private final String name;
    private final LongAdder tooLarge;
    private final RateLimitedLog rateLimited;

    /**
     * @param name        the backend's name, for the log
     * @param tooLarge    counts the events left out for their size
     * @param rateLimited the backend's rate-limited log
     */
    CallPlanner(String name, LongAdder tooLarge, RateLimitedLog rateLimited) {
        this.name = name;
        this.tooLarge = tooLarge;
        this.rateLimited = rateLimited;
    }

    /** The batch cut into calls, per target stream in the order targets first appear. */
    List<StreamPlan> plan(Batch batch, CloudWatchSettings s) {
        String source = batch.source();
        boolean byType = s.groupTemplate().usesType() || s.streamTemplate().usesType();
        List<StreamPlan> out = new ArrayList<>(byType ? 4 : 1);
        if (!byType) {
            MessageType any = batch.messages().get(0).type();
            out.add(planStream(s, s.groupTemplate().expand(source, any), s.streamTemplate().expand(source, any),
                    batch.messages()));
            return out;
        }
        Map<MessageType, List<Message>> byTypes = new EnumMap<>(MessageType.class);
        List<MessageType> order = new ArrayList<>(4);
        for (Message m : batch.messages()) {
            List<Message> list = byTypes.get(m.type());
            if (list == null) {
                list = new ArrayList<>();
                byTypes.put(m.type(), list);
                order.add(m.type());
            }
            list.add(m);
        }
        // types may share a target (e.g. only the group uses {type}): merge by name
        Map<String, List<Message>> byTarget = new LinkedHashMap<>();
        Map<String, String[]> names = new LinkedHashMap<>();
        for (MessageType type : order) {
            String group = s.groupTemplate().expand(source, type);
            String stream = s.streamTemplate().expand(source, type);
            String key = group + '\u0000' + stream;
            names.putIfAbsent(key, new String[] {group, stream});
            byTarget.computeIfAbsent(key, k -> new ArrayList<>()).addAll(byTypes.get(type));
        }
        byTarget.forEach((key, list) -> out.add(planStream(s, names.get(key)[0], names.get(key)[1], list)));
        return out;
    }

    private StreamPlan planStream(CloudWatchSettings s, String group, String stream, List<Message> messages) {
        List<Message> usable = withoutOversize(sortedByTime(messages), s.maxEventBytes(), group, stream);
        List<Chunk> chunks = new ArrayList<>();
        int maxEvents = s.maxEventsPerCall();
        long maxBytes = s.maxBytesPerCall();
        int from = -1;
        long size = 0;
        long first = 0;
        int kept = 0;
        for (int i = 0; i < usable.size(); i++) {
            Message m = usable.get(i);
            long eventBytes = m.line().length + CloudWatchSettings.EVENT_OVERHEAD;
            if (from >= 0 && (kept == maxEvents || size + eventBytes > maxBytes || m.timestamp() - first >= DAY_MILLIS)) {
                chunks.add(new Chunk(usable, from, i, size - (long) kept * CloudWatchSettings.EVENT_OVERHEAD));
                from = -1;
            }
            if (from < 0) {
                from = i;
                size = 0;
                kept = 0;
                first = m.timestamp();
            }
            size += eventBytes;
            kept++;
        }
        if (from >= 0) {
            chunks.add(new Chunk(usable, from, usable.size(), size - (long) kept * CloudWatchSettings.EVENT_OVERHEAD));
        }
        return new StreamPlan(group, stream, chunks);
    }

    /** The events that fit {@code max.event.bytes}; a copy only when there is one that does not (rare). */
    private List<Message> withoutOversize(List<Message> sorted, int maxEvent, String group, String stream) {
        for (int i = 0; i < sorted.size(); i++) {
            if (sorted.get(i).line().length + CloudWatchSettings.EVENT_OVERHEAD > maxEvent) {
                List<Message> usable = new ArrayList<>(sorted.size());
                for (Message m : sorted) {
                    if (m.line().length + CloudWatchSettings.EVENT_OVERHEAD > maxEvent) {
                        tooLarge.increment();
                        rateLimited.warn("too_large", "CloudWatch backend \"{}\": dropped an event of {} bytes for {}/{}"
                                + " (max.event.bytes={})", name, m.line().length, group, stream, maxEvent);
                    } else {
                        usable.add(m);
                    }
                }
                return usable;
            }
        }
        return sorted;
    }

    /** The messages in time order; the list itself if it already is (the common case), else a stable sort. */
    static List<Message> sortedByTime(List<Message> messages) {
        long previous = Long.MIN_VALUE;
        for (Message m : messages) {
            if (m.timestamp() < previous) {
                List<Message> copy = new ArrayList<>(messages);
                copy.sort(BY_TIME);
                return copy;
            }
            previous = m.timestamp();
        }
        return messages;
    }

    /** Messages in the calls {@code done} counts as acknowledged (per stream key: the calls sent, in order). */
    static long delivered(List<StreamPlan> plan, Map<String, Integer> done) {
        long delivered = 0;
        for (StreamPlan p : plan) {
            int calls = done.getOrDefault(p.key(), 0);
            for (int i = 0; i < calls; i++) {
                delivered += p.chunks().get(i).size();
            }
        }
        return delivered;
    }
}
