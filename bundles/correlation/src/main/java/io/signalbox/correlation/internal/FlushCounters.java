package io.signalbox.correlation.internal;

import java.util.concurrent.atomic.LongAdder;

/** Batches cut, by reason. */
final class FlushCounters {
    private final LongAdder[] byReason = new LongAdder[FlushReason.values().length];

    FlushCounters() {
        for (int i = 0; i < byReason.length; i++) {
            byReason[i] = new LongAdder();
        }
    }

    void increment(FlushReason reason) {
        byReason[reason.ordinal()].increment();
    }

    long get(FlushReason reason) {
        return byReason[reason.ordinal()].sum();
    }
}
