package io.signalbox.api;

/**
 * The delivery state of one backend name, as its routing channel sees it.
 *
 * @param name                backend name routes refer to
 * @param kind                {@code file}, {@code postgres} …, or {@code null} while no backend of that name is bound
 * @param state               see {@link State}
 * @param queuedMessages      held in memory
 * @param spoolMessages       waiting in its disk spool
 * @param spoolBytes          size of its disk spool
 * @param routedMessages      handed to its channel since start (then written, queued, spooled or dead-lettered)
 * @param writtenMessages     written by the backend since start (from memory or replayed from the spool)
 * @param writeFailures       failed writes since start
 * @param deadLetterMessages  refused by the backend as invalid and written to its dead-letter file
 * @param spoolDroppedMessages lost because its spool was full
 */
public record BackendStatus(String name, String kind, State state, long queuedMessages, long spoolMessages,
        long spoolBytes, long routedMessages, long writtenMessages, long writeFailures, long deadLetterMessages, long spoolDroppedMessages) {

    /** From healthy to not there at all. */
    public enum State {
        /** Bound, breaker closed, nothing failing. */
        UP,
        /** Bound, but writes are failing (breaker still closed or half-open) or a spool is being replayed. */
        DEGRADED,
        /** Circuit breaker open: batches go to the spool until a probe succeeds. */
        BREAKER_OPEN,
        /** A route names it but no backend bundle/configuration of that name is there: batches go to the spool. */
        WAITING_FOR_BUNDLE;

        /** {@code up}, {@code degraded}, {@code breaker_open}, {@code waiting_for_bundle}. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
