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

    /** Whether the pipeline currently has room ({@link #offer} would return {@code true}). */
    boolean isWritable();

    /**
     * Runs {@code callback} once, on a pipeline thread, as soon as the pipeline has room
     * again (at once if it has room now). The callback must not block.
     */
    void whenWritable(Runnable callback);
}
