package io.signalbox.correlation.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.Router;

/** A router for tests: records every batch; delivers at once or holds the callbacks until told to. */
final class RecordingRouter implements Router {
    private final boolean deliverAtOnce;
    private final List<Batch> batches = new ArrayList<>();
    private final List<Runnable> held = new ArrayList<>();
    private final ConcurrentHashMap<String, AtomicInteger> routingNow = new ConcurrentHashMap<>();
    private final AtomicInteger overlaps = new AtomicInteger();

    private RecordingRouter(boolean deliverAtOnce) {
        this.deliverAtOnce = deliverAtOnce;
    }

    static RecordingRouter deliveringAtOnce() {
        return new RecordingRouter(true);
    }

    static RecordingRouter holdingDeliveries() {
        return new RecordingRouter(false);
    }

    @Override
    public void route(Batch batch, Runnable delivered) {
        AtomicInteger busy = routingNow.computeIfAbsent(batch.source(), s -> new AtomicInteger());
        if (busy.incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
        try {
            synchronized (this) {
                batches.add(batch);
                if (!deliverAtOnce) {
                    held.add(delivered);
                }
            }
            if (deliverAtOnce) {
                delivered.run();
            }
        } finally {
            busy.decrementAndGet();
        }
    }

    synchronized List<Batch> batches() {
        return List.copyOf(batches);
    }

    synchronized int batchCount() {
        return batches.size();
    }

    /** Runs the oldest held {@code delivered} callback. */
    void deliverOldest() {
        Runnable r;
        synchronized (this) {
            r = held.remove(0);
        }
        r.run();
    }

    /** How often two batches of one source were being routed at the same time. */
    int concurrentRoutesOfOneSource() {
        return overlaps.get();
    }

    /** Lines of the batches of {@code source}, in routing order. */
    synchronized List<String> linesOf(String source) {
        List<String> lines = new ArrayList<>();
        for (Batch b : batches) {
            if (b.source().equals(source)) {
                for (Message m : b.messages()) {
                    lines.add(new String(m.line(), StandardCharsets.UTF_8));
                }
            }
        }
        return lines;
    }
}
