package io.signalbox.protocol;

import java.util.Objects;

import io.signalbox.api.DropReason;
import io.signalbox.api.Message;

/**
 * The outcome of decoding one line: a {@link Message}, a rejection (a {@link DropReason} and a
 * short human-readable detail such as {@code missing field 'ts'}), or {@linkplain Status#EMPTY
 * nothing} for a blank line.
 *
 * <p>Rejections are returned, not thrown, so that bad input costs no exception on the hot path;
 * the common rejections are shared constants. Instances are immutable.
 */
public final class DecodeResult {
    /** What a {@link DecodeResult} holds. */
    public enum Status {
        /** A valid message: {@link DecodeResult#message()}. */
        MESSAGE,
        /** A rejected line: {@link DecodeResult#reason()} and {@link DecodeResult#detail()}. */
        REJECTED,
        /** An empty or whitespace-only line: ignored silently, not counted as a drop. */
        EMPTY
    }

    private static final DecodeResult EMPTY = new DecodeResult(Status.EMPTY, null, null, null);

    private final Status status;
    private final Message message;
    private final DropReason reason;
    private final String detail;

    private DecodeResult(Status status, Message message, DropReason reason, String detail) {
        this.status = status;
        this.message = message;
        this.reason = reason;
        this.detail = detail;
    }

    /** A decoded message. */
    public static DecodeResult of(Message message) {
        return new DecodeResult(Status.MESSAGE, Objects.requireNonNull(message, "message"), null, null);
    }

    /** A rejection with its reason and a short detail for the log, e.g. {@code missing field 'ts'}. */
    public static DecodeResult rejected(DropReason reason, String detail) {
        return new DecodeResult(Status.REJECTED, null, Objects.requireNonNull(reason, "reason"),
                Objects.requireNonNull(detail, "detail"));
    }

    /** The result for a blank line (the shared instance). */
    public static DecodeResult empty() {
        return EMPTY;
    }

    public Status status() {
        return status;
    }

    public boolean isMessage() {
        return status == Status.MESSAGE;
    }

    public boolean isRejected() {
        return status == Status.REJECTED;
    }

    public boolean isEmpty() {
        return status == Status.EMPTY;
    }

    /** The message, or {@code null} unless {@link #isMessage()}. */
    public Message message() {
        return message;
    }

    /** Why the line was rejected, or {@code null} unless {@link #isRejected()}. */
    public DropReason reason() {
        return reason;
    }

    /** A short description of the problem, or {@code null} unless {@link #isRejected()}. */
    public String detail() {
        return detail;
    }

    @Override
    public String toString() {
        switch (status) {
            case MESSAGE: return "DecodeResult[message " + message + "]";
            case REJECTED: return "DecodeResult[" + reason.label() + ": " + detail + "]";
            default: return "DecodeResult[empty]";
        }
    }
}
