package io.signalbox.transport.tcp.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import io.signalbox.api.Ingest;
import io.signalbox.api.Message;

/**
 * An {@link Ingest} for tests: keeps every message; back-pressure is switched by hand
 * ({@link #setWritable}) or, in flapping mode, reported on every n-th offer and released
 * asynchronously on a "pipeline" thread.
 */
class TestIngest implements Ingest {
    final ConcurrentLinkedQueue<Message> messages = new ConcurrentLinkedQueue<>();
    final AtomicInteger registrations = new AtomicInteger();
    private final List<Runnable> waiting = new ArrayList<>();
    private final AtomicInteger offers = new AtomicInteger();
    private volatile boolean writable = true;
    private volatile int flapEvery;
    private ExecutorService pipeline;

    @Override
    public boolean offer(Message message) {
        messages.add(message);
        int n = offers.incrementAndGet();
        int every = flapEvery;
        if (every > 0) {
            return n % every != 0;
        }
        return writable;
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void whenWritable(Runnable callback) {
        registrations.incrementAndGet();
        if (flapEvery > 0) {
            pipeline.execute(callback);
            return;
        }
        synchronized (waiting) {
            if (!writable) {
                waiting.add(callback);
                return;
            }
        }
        callback.run();
    }

    /** Switches back-pressure; when room returns, the waiting callbacks run on this thread. */
    void setWritable(boolean value) {
        List<Runnable> run;
        synchronized (waiting) {
            writable = value;
            if (!value) {
                return;
            }
            run = new ArrayList<>(waiting);
            waiting.clear();
        }
        run.forEach(Runnable::run);
    }

    /** Every {@code n}-th offer returns false; callbacks run at once on another thread. */
    void flap(int n) {
        pipeline = Executors.newSingleThreadExecutor();
        flapEvery = n;
    }

    int waitingCallbacks() {
        synchronized (waiting) {
            return waiting.size();
        }
    }

    List<String> lines() {
        return messages.stream().map(m -> new String(m.line(), StandardCharsets.UTF_8)).collect(Collectors.toList());
    }

    void close() {
        if (pipeline != null) {
            pipeline.shutdownNow();
        }
    }
}
