package io.signalbox.transport.tcp.internal;

/** Protocol v1 lines for tests. */
final class Lines {
    private Lines() {
    }

    static String event(String src, long i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_700_000_000_000L + i)
                + ",\"type\":\"event\",\"ctx\":{\"job_id\":\"j-" + i + "\"},\"data\":{\"level\":\"info\",\"msg\":\"message "
                + i + "\"}}";
    }

    /** A valid event line of exactly {@code length} bytes (ASCII). */
    static String eventOfLength(int length) {
        String head = "{\"v\":1,\"src\":\"pad\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"";
        String tail = "\"}}";
        return head + "x".repeat(length - head.length() - tail.length()) + tail;
    }
}
