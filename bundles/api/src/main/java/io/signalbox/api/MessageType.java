package io.signalbox.api;

import java.util.Locale;

/** The message types of wire protocol v1 (DESIGN.md §2). */
public enum MessageType {
    EVENT, METRIC, PROGRESS, RESOURCE, SPAN, HEARTBEAT, HELLO, GOODBYE;

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** The name as it appears in the {@code type} field, e.g. {@code "event"}. */
    public String wireName() {
        return wireName;
    }

    /** The type for a wire name, or {@code null} if it is not a v1 type. */
    public static MessageType fromWireName(String name) {
        switch (name) {
            case "event": return EVENT;
            case "metric": return METRIC;
            case "progress": return PROGRESS;
            case "resource": return RESOURCE;
            case "span": return SPAN;
            case "heartbeat": return HEARTBEAT;
            case "hello": return HELLO;
            case "goodbye": return GOODBYE;
            default: return null;
        }
    }
}
