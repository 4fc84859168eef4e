package io.signalbox.backend.s3.internal;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An object key template such as {@code {prefix}{source}/{yyyy}/{MM}/{dd}/{HH}/{uuid}.jsonl.gz},
 * parsed once. Placeholders: {@code {prefix} {source} {name} {yyyy} {MM} {dd} {HH} {mm} {uuid}};
 * times are the UTC creation time of the object's first batch. {@code {uuid}} is required so that
 * keys never collide.
 */
final class KeyTemplate {
    static final Set<String> PLACEHOLDERS = Set.of("prefix", "source", "name", "yyyy", "MM", "dd", "HH", "mm", "uuid");

    private final String text;
    /** Literal text and placeholder names alternating: even index literal, odd index placeholder. */
    private final List<String> parts;

    private KeyTemplate(String text, List<String> parts) {
        this.text = text;
        this.parts = parts;
    }

    /** @throws IllegalArgumentException with the reason if the template is unusable */
    static KeyTemplate parse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("'key.template' is empty");
        }
        if (text.startsWith("/")) {
            throw new IllegalArgumentException("'key.template' must not start with '/'");
        }
        List<String> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        boolean uuid = false;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '{') {
                int end = text.indexOf('}', i);
                if (end < 0) {
                    throw new IllegalArgumentException("'key.template' has an unclosed '{' at index " + i);
                }
                String name = text.substring(i + 1, end);
                if (!PLACEHOLDERS.contains(name)) {
                    throw new IllegalArgumentException("'key.template' has an unknown placeholder {" + name
                            + "}; known: {prefix} {source} {name} {yyyy} {MM} {dd} {HH} {mm} {uuid}");
                }
                uuid |= name.equals("uuid");
                parts.add(literal.toString());
                parts.add(name);
                literal.setLength(0);
                i = end + 1;
            } else if (c == '}') {
                throw new IllegalArgumentException("'key.template' has a '}' without '{' at index " + i);
            } else {
                literal.append(c);
                i++;
            }
        }
        parts.add(literal.toString());
        if (!uuid) {
            throw new IllegalArgumentException("'key.template' must contain {uuid} (keys must be unique)");
        }
        return new KeyTemplate(text, List.copyOf(parts));
    }

    /** The key with {@code .gz} removed from its end (for gzip=false). */
    KeyTemplate withoutGz() {
        if (!text.endsWith(".gz")) {
            return this;
        }
        return parse(text.substring(0, text.length() - 3));
    }

    String render(String prefix, String name, String source, long createdMillis, String uuid) {
        ZonedDateTime t = Instant.ofEpochMilli(createdMillis).atZone(ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(64);
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            if (i % 2 == 0) {
                sb.append(p);
                continue;
            }
            switch (p) {
                case "prefix": sb.append(prefix); break;
                case "source": sb.append(safe(source)); break;
                case "name": sb.append(safe(name)); break;
                case "yyyy": pad(sb, t.getYear(), 4); break;
                case "MM": pad(sb, t.getMonthValue(), 2); break;
                case "dd": pad(sb, t.getDayOfMonth(), 2); break;
                case "HH": pad(sb, t.getHour(), 2); break;
                case "mm": pad(sb, t.getMinute(), 2); break;
                case "uuid": sb.append(uuid); break;
                default: throw new IllegalStateException(p);
            }
        }
        return sb.toString();
    }

    /** A source as one key segment: characters other than {@code A-Z a-z 0-9 . _ -} become {@code _}; "." and ".." too. */
    static String safe(String s) {
        if (s.isEmpty() || s.equals(".") || s.equals("..")) {
            return "_";
        }
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            if (!ok && sb == null) {
                sb = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (sb != null) {
                sb.append(ok ? c : '_');
            }
        }
        return sb == null ? s : sb.toString();
    }

    private static void pad(StringBuilder sb, int v, int width) {
        String s = Integer.toString(v);
        for (int i = s.length(); i < width; i++) {
            sb.append('0');
        }
        sb.append(s);
    }

    @Override
    public String toString() {
        return text;
    }
}
