package io.signalbox.protocol;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;

/**
 * A stream transport's connection counters (TCP, Unix domain socket), each under the transport's
 * own series names. Updated per connection event or per read buffer, never per line.
 */
public class ConnectionStats implements StatsSource {
    public final AtomicInteger active = new AtomicInteger();
    public final LongAdder accepted = new LongAdder();
    public final LongAdder refused = new LongAdder();
    public final LongAdder evicted = new LongAdder();
    public final LongAdder bytes = new LongAdder();
    public final LongAdder suspensions = new LongAdder();

    private final String activeName;
    private final String acceptedName;
    private final String refusedName;
    private final String evictedName;
    private final String bytesName;
    private final String suspensionsName;

    /** The series names of the gauge and the five counters (counters end in {@code _total}). */
    protected ConnectionStats(String active, String accepted, String refused, String evicted, String bytes,
            String suspensions) {
        this.activeName = active;
        this.acceptedName = accepted;
        this.refusedName = refused;
        this.evictedName = evicted;
        this.bytesName = bytes;
        this.suspensionsName = suspensions;
    }

    @Override
    public void collect(MetricsSink sink) {
        sink.gauge(activeName, active.get());
        sink.counter(acceptedName, accepted.sum());
        sink.counter(refusedName, refused.sum());
        sink.counter(evictedName, evicted.sum());
        sink.counter(bytesName, bytes.sum());
        sink.counter(suspensionsName, suspensions.sum());
    }
}
