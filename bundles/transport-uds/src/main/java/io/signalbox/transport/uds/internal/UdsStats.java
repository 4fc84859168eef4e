package io.signalbox.transport.uds.internal;

import io.signalbox.protocol.ConnectionStats;

/** The Unix domain socket transport's connection counters. */
final class UdsStats extends ConnectionStats {
    static final String ACTIVE = "signalbox_uds_active_connections";
    static final String ACCEPTED = "signalbox_uds_connections_accepted_total";
    static final String REFUSED = "signalbox_uds_connections_refused_total";
    static final String EVICTED = "signalbox_uds_connections_evicted_total";
    static final String BYTES = "signalbox_uds_bytes_received_total";
    static final String SUSPENSIONS = "signalbox_uds_read_suspensions_total";

    UdsStats() {
        super(ACTIVE, ACCEPTED, REFUSED, EVICTED, BYTES, SUSPENSIONS);
    }
}
