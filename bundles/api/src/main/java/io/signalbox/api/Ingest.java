package io.signalbox.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The one entry point of the pipeline for every transport (TCP, HTTP, …).
 *
 * <p>Offering never blocks and never drops: an offered message is accepted. The return
 * value is back-pressure: {@code false} means the pipeline is above its high-water mark
 * and the caller should stop reading from its clients (e.g. MINA {@code suspendRead}) and
 * resume when the callback given to {@link #whenWritable(Runnable)} runs.
 */
@ProviderType
public interface Ingest {
    /** PID of the component that provides this service. */
    String PID = "io.signalbox.correlation";

    /**
     * Accepts one message.
     *
     * @return {@code true} if there is room for more, {@code false} if the caller should
     *         pause reading
     */
    boolean offer(Message message);

    /**
     * Accepts one message like {@link #offer(Message)} and runs {@code delivered} once the batch
     * that carries it has been written or spooled by every channel routing queued it on (the
     * {@link Router#route} callback), or dropped and counted (no route takes it, routing is
     * stopping, the router failed). For transports that acknowledge their input upstream only
     * once losing the sidecar cannot lose it: a Kafka consumer commits an offset only after every
     * message up to it was delivered this way.
     *
     * <p>{@code delivered} runs exactly once, on a pipeline thread (or the caller's); it must not
     * block. The same instance may be passed with many messages (it then runs once per message).
     *
     * @return as {@link #offer(Message)}
     * @throws UnsupportedOperationException if this pipeline cannot report delivery
     * @since 2.2
     */
    default boolean offer(Message message, Runnable delivered) {
        throw new UnsupportedOperationException("this Ingest does not report delivery");
    }

    /**
     * Accepts one message like {@link #offer(Message)} and hands its source's buffer (everything buffered
     * before it, then it) to routing at once, as for an {@code error} event, instead of after
     * {@code flush.interval.ms}: for messages whose timeliness matters more than batching, such as
     * alert state changes. The default (for providers without batching) is {@link #offer(Message)}.
     *
     * @return as {@link #offer(Message)}
     */
    default boolean offerAndFlush(Message message) {
        return offer(message);
    }

    /** Whether the pipeline currently has room ({@link #offer} would return {@code true}). */
    boolean isWritable();

    /**
     * Runs {@code callback} once, on a pipeline thread, as soon as the pipeline has room
     * again (at once if it has room now). The callback must not block.
     */
    void whenWritable(Runnable callback);
}
