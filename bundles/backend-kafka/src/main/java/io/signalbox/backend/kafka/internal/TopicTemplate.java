package io.signalbox.backend.kafka.internal;

import io.signalbox.api.MessageType;

/**
 * The {@code topic} of a Kafka backend: literal text with {@code {source}} and {@code {type}}. The
 * literal part must be a legal Kafka topic name part ({@code [a-zA-Z0-9._-]}); in substituted values,
 * other characters become {@code _}, and a name longer than 249 characters is cut (Kafka's limit).
 */
final class TopicTemplate {
    static final int MAX_LENGTH = 249;

    private final String template;
    private final boolean usesSource;
    private final boolean usesType;

    private TopicTemplate(String template) {
        this.template = template;
        this.usesSource = template.contains("{source}");
        this.usesType = template.contains("{type}");
    }

    /** @throws IllegalArgumentException with the reason */
    static TopicTemplate parse(String template) {
        if (template.isEmpty()) {
            throw new IllegalArgumentException("'topic' is required, e.g. topic=signalbox or topic=signalbox.{source}");
        }
        String literal = template.replace("{source}", "").replace("{type}", "");
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c == '{' || c == '}') {
                throw new IllegalArgumentException("'topic' knows only the placeholders {source} and {type}, is \"" + template + "\"");
            }
            if (!legal(c)) {
                throw new IllegalArgumentException("'topic' may contain only a-z A-Z 0-9 . _ - besides {source} and {type}, has '"
                        + c + "' in \"" + template + "\"");
            }
        }
        if (!(template.contains("{source}") || template.contains("{type}"))) {
            if (literal.equals(".") || literal.equals("..")) {
                throw new IllegalArgumentException("'topic' cannot be \".\" or \"..\"");
            }
            if (literal.length() > MAX_LENGTH) {
                throw new IllegalArgumentException("'topic' must be at most " + MAX_LENGTH + " characters");
            }
        }
        return new TopicTemplate(template);
    }

    /** Whether the topic depends on the message type (so a batch may go to several topics). */
    boolean usesType() {
        return usesType;
    }

    /** The topic of a message of {@code source} and {@code type}. */
    String topic(String source, MessageType type) {
        if (!usesSource && !usesType) {
            return template;
        }
        String t = template;
        if (usesSource) {
            t = t.replace("{source}", sanitize(source));
        }
        if (usesType) {
            t = t.replace("{type}", type.wireName());
        }
        return t.length() > MAX_LENGTH ? t.substring(0, MAX_LENGTH) : t;
    }

    static String sanitize(String value) {
        StringBuilder sb = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!legal(c)) {
                if (sb == null) {
                    sb = new StringBuilder(value);
                }
                sb.setCharAt(i, '_');
            }
        }
        String s = sb == null ? value : sb.toString();
        return s.isEmpty() ? "_" : s;
    }

    private static boolean legal(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    }

    @Override
    public String toString() {
        return template;
    }
}
