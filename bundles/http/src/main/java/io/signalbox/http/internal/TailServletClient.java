package io.signalbox.http.internal;

import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/**
 * One {@code /api/tail} client: its filters and a bounded hand-over from the routing thread
 * ({@link #offer}, never blocks) to the request thread that writes to the client ({@link #poll}).
 * Whole batches are handed over (one queue operation per batch, nothing copied); the bound is
 * on the messages they hold. A batch that does not fit is dropped and its matching messages
 * are counted.
 */
final class TailServletClient {
    /** Handed to {@link #poll} when the client must stop (component deactivated). */
    private static final Batch END = new Batch("", List.of());

    final String source;
    final MessageType type;
    private final int capacity;
    private final LinkedBlockingQueue<Batch> batches = new LinkedBlockingQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param source   only this source, or {@code null} for all
     * @param type     only this type, or {@code null} for all
     * @param capacity messages that may wait for the client
     */
    TailServletClient(String source, MessageType type, int capacity) {
        this.source = source;
        this.type = type;
        this.capacity = capacity;
    }

    /** Routing thread: queues {@code batch} if it has matching messages and fits, else counts the drop. */
    void offer(Batch batch) {
        if (closed || (source != null && !source.equals(batch.source()))) {
            return;
        }
        int matching = type == null ? batch.size() : matching(batch);
        if (matching == 0) {
            return;
        }
        int n = batch.size();
        if (queued.addAndGet(n) > capacity) {
            queued.addAndGet(-n);
            dropped.addAndGet(matching);
            return;
        }
        batches.offer(batch);
    }

    /** Whether {@code m} passes the filters (the source was checked per batch). */
    boolean accepts(Message m) {
        return type == null || m.type() == type;
    }

    /**
     * The next batch, waiting up to {@code timeoutMillis} ({@code 0}: not at all); {@code null}
     * if there is none or the client was closed.
     */
    Batch poll(long timeoutMillis) throws InterruptedException {
        Batch b = timeoutMillis > 0 ? batches.poll(timeoutMillis, TimeUnit.MILLISECONDS) : batches.poll();
        if (b == null || b == END) {
            return null;
        }
        queued.addAndGet(-b.size());
        return b;
    }

    /** Messages dropped so far because the client did not keep up. */
    long dropped() {
        return dropped.get();
    }

    boolean isClosed() {
        return closed;
    }

    /** Ends the stream: the writing thread returns from {@link #poll} at once. */
    void close() {
        closed = true;
        batches.offer(END);
    }

    private int matching(Batch batch) {
        int count = 0;
        for (Message m : batch.messages()) {
            if (m.type() == type) {
                count++;
            }
        }
        return count;
    }
}
