package io.signalbox.transport.tcp.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/** The transport's connection counters. Updated per connection event or per read buffer, never per line. */
final class TcpStats implements StatsSource {
    static final String ACTIVE = "signalbox_active_connections";
    static final String ACCEPTED = "signalbox_tcp_connections_accepted_total";
    static final String REFUSED = "signalbox_tcp_connections_refused_total";
    static final String EVICTED = "signalbox_tcp_connections_evicted_total";
    static final String BYTES = "signalbox_tcp_bytes_received_total";
    static final String SUSPENSIONS = "signalbox_tcp_read_suspensions_total";
    /**
     * Per transport (label {@code transport="tcp"}), reported by {@link io.signalbox.protocol.LineIngest};
     * correlation publishes {@code signalbox_messages_received_total{source}}.
     */
    static final String RECEIVED = "signalbox_transport_messages_received_total";

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
