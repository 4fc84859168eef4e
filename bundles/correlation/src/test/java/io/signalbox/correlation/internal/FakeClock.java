package io.signalbox.correlation.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** One hand-moved clock for both the nano (buffer age) and milli (trace TTL) time bases. */
final class FakeClock {
    private final AtomicLong nanos = new AtomicLong(TimeUnit.DAYS.toNanos(20_000));

    long nanos() {
        return nanos.get();
    }

    long millis() {
        return TimeUnit.NANOSECONDS.toMillis(nanos.get());
    }

    void advanceMillis(long ms) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }
}
