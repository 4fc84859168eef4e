package io.signalbox.sdk;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;

/** Threads of a concurrency test, released together so that they really overlap. */
public final class Concurrently {
    private Concurrently() {
    }

    /**
     * Starts {@code n} threads, each running {@code body} with its index (0 to n-1), all released
     * at the same moment; returns them, running.
     */
    public static List<Thread> start(int n, IntConsumer body) {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                body.accept(id);
            });
            threads.add(thread);
            thread.start();
        }
        go.countDown();
        return threads;
    }

    /** Waits until every one of {@code threads} has ended. */
    public static void join(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }
}
