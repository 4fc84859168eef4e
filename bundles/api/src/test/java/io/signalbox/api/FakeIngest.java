package io.signalbox.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link Ingest} for the transports' tests: keeps every message it is offered. Back-pressure is
 * switched by hand ({@link #setWritable}; the {@link #whenWritable} callbacks then wait until room
 * returns) or, in flapping mode ({@link #flap}), reported on every n-th offer and released
 * asynchronously on a "pipeline" thread. {@link #failWith} makes every offer throw.
 * {@link #offer(Message, Runnable)} runs the delivered callback at once, or keeps it while
 * {@link #holdDeliveries} is on, until {@link #deliverHeld} runs them.
 */
public class FakeIngest implements Ingest {
    private final List<Message> offered = new ArrayList<>();
    private final List<Runnable> waiting = new ArrayList<>();
    private final AtomicInteger offers = new AtomicInteger();
    private final AtomicInteger registrations = new AtomicInteger();
    private volatile boolean writable = true;
    private volatile RuntimeException failure;
    private volatile int flapEvery;
    private volatile ExecutorService pipeline;
    private final List<Runnable> held = new ArrayList<>();
    private boolean holding;

    @Override
    public boolean offer(Message message) {
        RuntimeException f = failure;
        if (f != null) {
            throw f;
        }
        synchronized (offered) {
            offered.add(message);
        }
        int n = offers.incrementAndGet();
        int every = flapEvery;
        if (every > 0) {
            return n % every != 0;
        }
        return writable;
    }

    @Override
    public boolean offer(Message message, Runnable delivered) {
        boolean room = offer(message);
        synchronized (held) {
            if (holding) {
                held.add(delivered);
                return room;
            }
        }
        delivered.run();
        return room;
    }

    /** While on, delivered callbacks are kept instead of run. */
    public void holdDeliveries(boolean value) {
        synchronized (held) {
            holding = value;
        }
    }

    /**
     * Runs the first {@code n} kept delivered callbacks (in offer order), or all if fewer are kept.
     *
     * @return how many ran
     */
    public int deliverHeld(int n) {
        List<Runnable> run;
        synchronized (held) {
            int k = Math.min(n, held.size());
            run = new ArrayList<>(held.subList(0, k));
            held.subList(0, k).clear();
        }
        run.forEach(Runnable::run);
        return run.size();
    }

    /** Delivered callbacks kept so far and not run. */
    public int heldDeliveries() {
        synchronized (held) {
            return held.size();
        }
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
    public void setWritable(boolean value) {
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

    /** From now on every offer throws {@code failure} (and keeps nothing). */
    public void failWith(RuntimeException failure) {
        this.failure = failure;
    }

    /** Every {@code n}-th offer returns false; callbacks run at once on another thread. Ends with {@link #close}. */
    public void flap(int n) {
        pipeline = Executors.newSingleThreadExecutor();
        flapEvery = n;
    }

    /** The messages offered so far, in order (a copy). */
    public List<Message> offered() {
        synchronized (offered) {
            return List.copyOf(offered);
        }
    }

    /** How many messages were offered so far. */
    public int count() {
        synchronized (offered) {
            return offered.size();
        }
    }

    /** The lines of the messages offered so far, in order. */
    public List<String> lines() {
        return offered().stream().map(m -> new String(m.line(), StandardCharsets.UTF_8)).toList();
    }

    /** How many {@link #whenWritable} callbacks were registered. */
    public int registrations() {
        return registrations.get();
    }

    /** How many {@link #whenWritable} callbacks wait for room. */
    public int waitingCallbacks() {
        synchronized (waiting) {
            return waiting.size();
        }
    }

    /** Stops the flapping mode's pipeline thread. */
    public void close() {
        ExecutorService p = pipeline;
        if (p != null) {
            p.shutdownNow();
        }
    }
}
