package io.signalbox.transport.uds.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/** The Unix domain socket transport's connection counters. */
final class UdsStats implements StatsSource {
    static final String ACTIVE = "signalbox_uds_active_connections";
    static final String ACCEPTED = "signalbox_uds_connections_accepted_total";
    static final String REFUSED = "signalbox_uds_connections_refused_total";
    static final String EVICTED = "signalbox_uds_connections_evicted_total";
    static final String BYTES = "signalbox_uds_bytes_received_total";
    static final String SUSPENSIONS = "signalbox_uds_read_suspensions_total";

    final AtomicInteger active = new AtomicInteger();
    final LongAdder accepted = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder evicted = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final LongAdder suspensions = new LongAdder();

    @Override
    public void collect(MetricsSink sink) {
        sink.gauge(ACTIVE, active.get());
        sink.counter(ACCEPTED, accepted.sum());
        sink.counter(REFUSED, refused.sum());
        sink.counter(EVICTED, evicted.sum());
        sink.counter(BYTES, bytes.sum());
        sink.counter(SUSPENSIONS, suspensions.sum());
    }
}
