package io.signalbox.backend.file.internal;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.signalbox.api.MessageType;

/**
 * A parsed {@code path.template} such as {@code {source}/{date}.jsonl}: literal text and the
 * placeholders {@code {source}}, {@code {date}} (yyyy-MM-dd), {@code {hour}} (HH) and
 * {@code {type}}, all in UTC. Parsed once, when the settings are built; expanding it is a few
 * appends. Immutable and thread-safe (the date text is cached per hour).
 */
final class PathTemplate {
    static final long HOUR_MILLIS = 3_600_000L;
    static final long DAY_MILLIS = 24 * HOUR_MILLIS;
    /** Longest sanitised source name, well below the usual 255-byte file name limit. */
    static final int MAX_SOURCE_LENGTH = 200;

    private enum Kind { LITERAL, SOURCE, DATE, HOUR, TYPE }

    private record Part(Kind kind, String text) {
    }

    private final String text;
    private final Part[] parts;
    private final boolean usesType;
    private final boolean usesDate;
    private final boolean usesHour;

    /** The date and hour texts of one UTC hour. */
    private record Hour(long hour, String date, String text) {
    }

    private volatile Hour cached = new Hour(Long.MIN_VALUE, null, null);

    PathTemplate(String template) {
        if (template == null || template.isBlank()) {
            throw new IllegalArgumentException("'path.template' is required, e.g. path.template={source}/{date}.jsonl");
        }
        this.text = template.trim();
        List<Part> list = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '}') {
                throw problem("must not have '}' without '{' (at " + i + ")");
            }
            if (c != '{') {
                literal.append(c == '\\' ? '/' : c);
                i++;
                continue;
            }
            int end = text.indexOf('}', i);
            if (end < 0) {
                throw problem("must not have '{' without '}' (at " + i + ")");
            }
            String name = text.substring(i + 1, end).trim().toLowerCase(Locale.ROOT);
            Kind kind;
            switch (name) {
                case "source": kind = Kind.SOURCE; break;
                case "date": kind = Kind.DATE; break;
                case "hour": kind = Kind.HOUR; break;
                case "type": kind = Kind.TYPE; break;
                default:
                    throw problem("must use only {source} {date} {hour} {type}, not {" + name + "}");
            }
            if (literal.length() > 0) {
                list.add(new Part(Kind.LITERAL, literal.toString()));
                literal.setLength(0);
            }
            list.add(new Part(kind, null));
            i = end + 1;
        }
        if (literal.length() > 0) {
            list.add(new Part(Kind.LITERAL, literal.toString()));
        }
        parts = list.toArray(new Part[0]);
        usesType = list.stream().anyMatch(p -> p.kind == Kind.TYPE);
        usesHour = list.stream().anyMatch(p -> p.kind == Kind.HOUR);
        usesDate = list.stream().anyMatch(p -> p.kind == Kind.DATE);
        validateShape();
    }

    /** Rejects templates that could leave the backend's folder or name no file. */
    private void validateShape() {
        String sample = expand("s", MessageType.EVENT, 0L);
        if (sample.startsWith("/") || (sample.length() > 1 && sample.charAt(1) == ':')) {
            throw problem("must be relative to path");
        }
        if (sample.endsWith("/")) {
            throw problem("must end in a file name");
        }
        for (String segment : sample.split("/")) {
            if (segment.equals("..") || segment.equals(".")) {
                throw problem("must not contain . or .. segments");
            }
            if (segment.isEmpty()) {
                throw problem("must not contain an empty segment (//)");
            }
        }
    }

    private IllegalArgumentException problem(String rule) {
        return new IllegalArgumentException("'path.template' " + rule + ", is \"" + text + "\"");
    }

    boolean usesType() {
        return usesType;
    }

    /**
     * The time period a file belongs to: the UTC hour if the template has {@code {hour}}, the
     * UTC day if it has {@code {date}}, else a constant. A file whose period has passed is
     * rolled over (closed, and compressed if configured).
     */
    long periodOf(long epochMillis) {
        if (usesHour) {
            return Math.floorDiv(epochMillis, HOUR_MILLIS);
        }
        if (usesDate) {
            return Math.floorDiv(epochMillis, DAY_MILLIS);
        }
        return 0;
    }

    /** The relative file path for a (sanitised) source, a type and a write time. */
    String expand(String sanitisedSource, MessageType type, long epochMillis) {
        StringBuilder sb = new StringBuilder(64);
        for (Part p : parts) {
            switch (p.kind) {
                case LITERAL: sb.append(p.text); break;
                case SOURCE: sb.append(sanitisedSource); break;
                case TYPE: sb.append(type.wireName()); break;
                case DATE: sb.append(hour(epochMillis).date); break;
                case HOUR: sb.append(hour(epochMillis).text); break;
                default: throw new IllegalStateException(p.kind.toString());
            }
        }
        return sb.toString();
    }

    private Hour hour(long epochMillis) {
        long hour = Math.floorDiv(epochMillis, HOUR_MILLIS);
        Hour c = cached;
        if (c.hour != hour) {
            int h = (int) Math.floorMod(hour, 24L);
            c = new Hour(hour, LocalDate.ofEpochDay(Math.floorDiv(hour, 24)).toString(), h < 10 ? "0" + h : Integer.toString(h));
            cached = c;
        }
        return c;
    }

    /**
     * A source name made safe as one path segment, injectively: distinct sources never share a
     * folder. {@code [A-Za-z0-9._-]} stay as they are; every other character is percent-escaped as
     * its UTF-8 bytes ({@code a/b} → {@code a%2Fb}, {@code a b} → {@code a%20b}, {@code %} →
     * {@code %25}), and so is a leading dot and the second dot of {@code ..} (no hidden files, no
     * {@code .}/{@code ..}). The empty name is {@code %}. A result longer than
     * {@value #MAX_SOURCE_LENGTH} characters is cut and ends in {@code ~} and the SHA-256 of the
     * source ({@code ~} is escaped everywhere else, so a cut name never equals an uncut one).
     * Names of only the safe characters map to themselves, as before this scheme: their existing
     * folders are still used.
     */
    static String sanitise(String source) {
        if (source == null || source.isEmpty()) {
            return "%";
        }
        if (source.length() <= MAX_SOURCE_LENGTH && plain(source)) {
            return source;
        }
        StringBuilder out = new StringBuilder(source.length() + 16);
        for (int i = 0; i < source.length(); i++) {
            char c = source.charAt(i);
            if (safe(c) && !(c == '.' && (i == 0 || source.charAt(i - 1) == '.'))) {
                out.append(c);
            } else if (Character.isHighSurrogate(c) && i + 1 < source.length()
                    && Character.isLowSurrogate(source.charAt(i + 1))) {
                escape(out, new String(new char[] { c, source.charAt(i + 1) }));
                i++;
            } else if (Character.isSurrogate(c)) {
                out.append("%u").append(String.format("%04X", (int) c)); // not UTF-8-encodable on its own
            } else {
                escape(out, String.valueOf(c));
            }
        }
        if (out.length() <= MAX_SOURCE_LENGTH) {
            return out.toString();
        }
        return out.substring(0, MAX_SOURCE_LENGTH - 65) + "~" + sha256(source);
    }

    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!safe(c) || (c == '.' && (i == 0 || s.charAt(i - 1) == '.'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean safe(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
                || c == '.';
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static void escape(StringBuilder out, String chars) {
        for (byte b : chars.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
    }

    private static String sha256(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder(64);
            for (byte x : d) {
                b.append(HEX[(x >> 4) & 0xF]).append(HEX[x & 0xF]);
            }
            return b.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
