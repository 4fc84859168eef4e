package io.signalbox.routing.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;

/** A backend for tests: records what it was given, can fail the first writes or block on a gate. */
final class FakeBackend implements Backend {
    private final List<Batch> batches = new ArrayList<>();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private final AtomicInteger attempts = new AtomicInteger();
    private volatile CountDownLatch gate;
    private final CountDownLatch entered = new CountDownLatch(1);

    /** The next {@code n} writes throw. */
    FakeBackend failing(int n) {
        failuresLeft.set(n);
        return this;
    }

    /** Writes block until {@link #open()}. */
    FakeBackend gated() {
        gate = new CountDownLatch(1);
        return this;
    }

    void open() {
        gate.countDown();
    }

    /** Waits until a write has started. */
    boolean awaitWriteStarted(long seconds) throws InterruptedException {
        return entered.await(seconds, TimeUnit.SECONDS);
    }

    @Override
    public void write(Batch batch) throws Exception {
        attempts.incrementAndGet();
        entered.countDown();
        CountDownLatch g = gate;
        if (g != null && !g.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("gate not opened");
        }
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new java.io.IOException("simulated failure");
        }
        synchronized (batches) {
            batches.add(batch);
        }
    }

    int attempts() {
        return attempts.get();
    }

    List<Batch> batches() {
        synchronized (batches) {
            return new ArrayList<>(batches);
        }
    }

    List<Message> messages() {
        List<Message> all = new ArrayList<>();
        for (Batch b : batches()) {
            all.addAll(b.messages());
        }
        return all;
    }

    int messageCount() {
        return messages().size();
    }
}
