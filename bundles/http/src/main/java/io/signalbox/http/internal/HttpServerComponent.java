package io.signalbox.http.internal;

/** Placeholder: owns PID io.signalbox.http (host, port, ingest.max.bytes). Filled in next. */
final class HttpServerComponent {
    static final String PID = "io.signalbox.http";

    private HttpServerComponent() {
    }
}
