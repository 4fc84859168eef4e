package io.signalbox.api;

/**
 * Thrown by {@link Backend#write} when the target refused the batch as invalid, so that sending
 * it again cannot succeed (an HTTP 4xx other than 408/429, a data error of the database, a
 * parameter the service rejects).
 *
 * <p>The routing channel does not retry such a batch and does not count it against the
 * backend's health: it writes the batch's messages to the backend's dead-letter file with
 * {@link #getMessage() the reason} and goes on with the next batch. Throw it only when the
 * batch itself is at fault; anything that may succeed later (timeouts, 5xx, connection errors,
 * authentication) must be an ordinary exception, which is retried.
 */
public class BatchRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param reason why the target refused the batch, as the target said it; logged and kept with the messages */
    public BatchRejectedException(String reason) {
        super(reason);
    }

    /**
     * @param reason why the target refused the batch
     * @param cause  the target's error
     */
    public BatchRejectedException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
