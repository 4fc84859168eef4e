package io.signalbox.backend.cloudwatch.internal;

import java.util.ArrayList;
import java.util.List;

import io.signalbox.api.MessageType;

/**
 * A log group or log stream name template with the placeholders {@code {source}} and
 * {@code {type}}. Parsed once; expanded once per batch (and per message type if the template
 * uses {@code {type}}), never per message. Characters the service does not allow in the name are
 * replaced by {@code _} and the result is cut to 512 characters.
 */
final class NameTemplate {
    /** Longest log group / log stream name the service accepts. */
    static final int MAX_LENGTH = 512;

    enum Kind {
        /** {@code [.\-_/#A-Za-z0-9]+} */
        GROUP,
        /** anything but {@code :} and {@code *} */
        STREAM
    }

    private final String text;
    private final Kind kind;
    /** Literals (String), SOURCE or TYPE markers, in order. */
    private final List<Object> parts;
    private final boolean usesType;

    private static final Object SOURCE = new Object();
    private static final Object TYPE = new Object();

    /** @throws IllegalArgumentException naming the key if the template is empty or has an unknown placeholder or an invalid character */
    NameTemplate(String key, String template, Kind kind) {
        this.text = template;
        this.kind = kind;
        if (template == null || template.isBlank()) {
            throw new IllegalArgumentException("'" + key + "' must not be empty");
        }
        List<Object> p = new ArrayList<>();
        boolean type = false;
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf('{', i);
            if (open < 0) {
                p.add(literal(key, template.substring(i)));
                break;
            }
            if (open > i) {
                p.add(literal(key, template.substring(i, open)));
            }
            int close = template.indexOf('}', open);
            if (close < 0) {
                throw new IllegalArgumentException("'" + key + "' has an unclosed '{' in \"" + template + "\"");
            }
            String name = template.substring(open + 1, close);
            switch (name) {
                case "source" -> p.add(SOURCE);
                case "type" -> {
                    p.add(TYPE);
                    type = true;
                }
                default -> throw new IllegalArgumentException("'" + key + "' has an unknown placeholder {" + name
                        + "} in \"" + template + "\"; known: {source}, {type}");
            }
            i = close + 1;
        }
        this.parts = List.copyOf(p);
        this.usesType = type;
    }

    private String literal(String key, String s) {
        if (s.indexOf('}') >= 0) {
            throw new IllegalArgumentException("'" + key + "' has a '}' without '{' in \"" + text + "\"");
        }
        for (int i = 0; i < s.length(); i++) {
            if (!allowed(s.charAt(i))) {
                throw new IllegalArgumentException("'" + key + "' contains '" + s.charAt(i) + "', which a log "
                        + (kind == Kind.GROUP ? "group name cannot contain (allowed: A-Z a-z 0-9 . - _ / #)"
                                : "stream name cannot contain (':' and '*' are not allowed)"));
            }
        }
        return s;
    }

    private boolean allowed(char c) {
        if (kind == Kind.STREAM) {
            return c != ':' && c != '*' && !Character.isISOControl(c);
        }
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '-' || c == '_' || c == '/' || c == '#';
    }

    boolean usesType() {
        return usesType;
    }

    String text() {
        return text;
    }

    /** The name for a source and a message type ({@code type} is ignored unless the template uses it). */
    String expand(String source, MessageType type) {
        StringBuilder sb = new StringBuilder(64);
        for (Object part : parts) {
            if (part == SOURCE) {
                appendSanitised(sb, source);
            } else if (part == TYPE) {
                appendSanitised(sb, type.name().toLowerCase(java.util.Locale.ROOT));
            } else {
                sb.append((String) part);
            }
        }
        if (sb.length() > MAX_LENGTH) {
            sb.setLength(MAX_LENGTH);
        }
        return sb.toString();
    }

    private void appendSanitised(StringBuilder sb, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            sb.append(allowed(c) ? c : '_');
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
