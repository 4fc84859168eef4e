package io.signalbox.correlation.internal;

import java.util.concurrent.atomic.LongAdder;

import io.signalbox.api.MetricsSink;

/** Batches cut, by reason. */
final class FlushCounters {
    static final String SERIES = "signalbox_batches_flushed_total";

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

    /** {@value #SERIES} for every reason, zeros included. */
    void collect(MetricsSink sink) {
        for (FlushReason reason : FlushReason.values()) {
            sink.counter(SERIES, get(reason), "reason", reason.label());
        }
    }
}
