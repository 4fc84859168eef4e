package io.signalbox.transport.tcp.internal;

import io.signalbox.protocol.ConnectionStats;

/** The transport's connection counters. Updated per connection event or per read buffer, never per line. */
final class TcpStats extends ConnectionStats {
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

    TcpStats() {
        super(ACTIVE, ACCEPTED, REFUSED, EVICTED, BYTES, SUSPENSIONS);
    }
}
