package io.signalbox.api;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A {@link Backend} that can have several batches outstanding at once: the routing channel hands
 * it a batch with {@link #writeAsync} and goes on with the next one without waiting for the
 * target's acknowledgement, up to the routing setting {@code max.in.flight} batches per channel.
 * A backend whose target acknowledges asynchronously (a Kafka producer) gets its throughput from
 * that instead of from one round trip per batch.
 *
 * <p>The completion of the returned stage means exactly what {@link #write} returning or throwing
 * means: completing normally, the target accepted every message of the batch; completing
 * exceptionally with a {@link BatchRejectedException}, the batch goes to the dead-letter file;
 * with any other exception, the channel retries the batch (back-off, circuit breaker, spool).
 * While several batches are outstanding, a failed one is retried after later ones may have been
 * written: the order across a retry is not kept (delivery stays at least once).
 *
 * <p>The channel calls {@code writeAsync} from one thread at a time, and {@link #write} (e.g. to
 * replay its spool, or with {@code max.in.flight=1}) only while no {@code writeAsync} of it is
 * outstanding. {@code writeAsync} should hand the batch over and return: it runs on a worker the
 * channels share, like {@code write}. The stage may complete on any thread (the channel does no
 * more there than note the outcome and wake its writer).
 */
@ConsumerType
public interface AsyncBackend extends Backend {
    /**
     * Starts writing the batch.
     *
     * @return completes once the target accepted every message of the batch, or exceptionally as
     *         {@link #write} would throw; a failure to start may be thrown here as well
     */
    CompletionStage<Void> writeAsync(Batch batch);
}
