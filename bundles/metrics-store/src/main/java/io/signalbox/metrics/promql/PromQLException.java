package io.signalbox.metrics.promql;

/** A query outside the supported subset or malformed: answered 400 in Prometheus' error format. */
public final class PromQLException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String type;

    public PromQLException(String message) {
        this("bad_data", message);
    }

    /** @param type Prometheus' {@code errorType}: {@code bad_data} or {@code execution} */
    public PromQLException(String type, String message) {
        super(message);
        this.type = type;
    }

    public String type() {
        return type;
    }
}
