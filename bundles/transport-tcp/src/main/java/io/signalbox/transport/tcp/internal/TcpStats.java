package io.signalbox.transport.tcp.internal;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** The transport's counters. Updated per connection event or per read buffer, never per line. */
final class TcpStats {
    static final String ACTIVE = "signalbox_active_connections";
    static final String ACCEPTED = "signalbox_tcp_connections_accepted_total";
    static final String REFUSED = "signalbox_tcp_connections_refused_total";
    static final String BYTES = "signalbox_tcp_bytes_received_total";
    static final String SUSPENSIONS = "signalbox_tcp_read_suspensions_total";
    /** Per transport; correlation publishes {@code signalbox_messages_received_total{source}}. */
    static final String RECEIVED = "signalbox_transport_messages_received_total{transport=\"tcp\"}";

    final AtomicInteger active = new AtomicInteger();
    final LongAdder accepted = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final LongAdder suspensions = new LongAdder();
    final LongAdder received = new LongAdder();

    void addTo(Map<String, Number> stats) {
        stats.put(ACTIVE, active.get());
        stats.put(ACCEPTED, accepted.sum());
        stats.put(REFUSED, refused.sum());
        stats.put(BYTES, bytes.sum());
        stats.put(SUSPENSIONS, suspensions.sum());
        stats.put(RECEIVED, received.sum());
    }
}
