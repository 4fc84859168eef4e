package io.signalbox.api;

import java.util.concurrent.atomic.LongAdder;

/**
 * The write statistics every remote backend reports, as
 * {@code signalbox_backend_<kind>_{batches,messages,bytes,failures}_total{backend}} and
 * {@code signalbox_backend_<kind>_write_seconds_{sum,count}{backend}}: batches and messages the
 * target accepted, bytes sent for them, failed writes, and the time spent writing. Cheap to
 * record from the writer thread (one {@link LongAdder} each); the backend adds its own series
 * after {@link #collect}.
 */
public final class BackendWriteStats {
    private final String prefix;
    private final String backend;
    private final LongAdder batches = new LongAdder();
    private final LongAdder messages = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder writeNanos = new LongAdder();
    private final LongAdder writes = new LongAdder();

    /**
     * @param kind    the backend kind, e.g. {@code postgres} (part of the series names)
     * @param backend the instance name (the {@code backend} label)
     */
    public BackendWriteStats(String kind, String backend) {
        this.prefix = "signalbox_backend_" + kind + "_";
        this.backend = backend;
    }

    /** A batch the target accepted. */
    public void batch() {
        batches.increment();
    }

    /** Messages the target accepted, and the bytes sent for them. */
    public void accepted(long messageCount, long byteCount) {
        messages.add(messageCount);
        bytes.add(byteCount);
    }

    /** A write (or write attempt, as the backend documents) that took {@code nanos}. */
    public void writeTime(long nanos) {
        writeNanos.add(nanos);
        writes.increment();
    }

    /** A failed write. */
    public void failure() {
        failures.increment();
    }

    /** Reports the six series. */
    public void collect(MetricsSink sink) {
        sink.counter(prefix + "batches_total", batches.sum(), "backend", backend);
        sink.counter(prefix + "messages_total", messages.sum(), "backend", backend);
        sink.counter(prefix + "bytes_total", bytes.sum(), "backend", backend);
        sink.counter(prefix + "failures_total", failures.sum(), "backend", backend);
        sink.gauge(prefix + "write_seconds_sum", writeNanos.sum() / 1e9, "backend", backend);
        sink.gauge(prefix + "write_seconds_count", writes.sum(), "backend", backend);
    }
}
