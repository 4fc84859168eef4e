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
     * A source name made safe as one path segment: characters outside {@code [A-Za-z0-9._-]}
     * become {@code _}, a leading dot and the second dot of {@code ..} become {@code _} (no
     * hidden files, no {@code .}/{@code ..}), at most {@value #MAX_SOURCE_LENGTH} characters.
     */
    static String sanitise(String source) {
        if (source == null || source.isEmpty()) {
            return "_";
        }
        int n = Math.min(source.length(), MAX_SOURCE_LENGTH);
        char[] out = new char[n];
        boolean changed = n != source.length();
        for (int i = 0; i < n; i++) {
            char c = source.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '-' || c == '.';
            if (c == '.' && (i == 0 || out[i - 1] == '.')) {
                ok = false;
            }
            out[i] = ok ? c : '_';
            changed |= !ok;
        }
        return changed ? new String(out) : source;
    }

    @Override
    public String toString() {
        return text;
    }
}
