package io.signalbox.routing.internal;

import io.signalbox.api.ConfigValues;
import io.signalbox.api.Glob;

/**
 * The {@code source} of a route: an exact source name, a glob with {@code *} (any run of
 * characters, also none) and {@code ?} (exactly one character), or the word
 * {@value RouteDefinition#DEFAULT_SOURCE}.
 *
 * <p>Matching runs once per source and routing table (the table caches the result), never
 * per message, and uses no regular expressions.
 */
final class SourcePattern {
    enum Kind { EXACT, GLOB, DEFAULT, ANY }

    /** Matches every source; the pattern of a global route. */
    static final SourcePattern ANY = new SourcePattern("*", Kind.ANY);

    private final String text;
    private final Kind kind;

    private SourcePattern(String text, Kind kind) {
        this.text = text;
        this.kind = kind;
    }

    /**
     * Parses a route's {@code source} value.
     *
     * @throws IllegalArgumentException with an operator-readable reason if it is not usable
     */
    static SourcePattern parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("'source' is required: an exact source name, a glob such as queue-*, or default");
        }
        String s = ConfigValues.unquote(value);
        if (s.isEmpty()) {
            throw new IllegalArgumentException("'source' is required: an exact source name, a glob such as queue-*, or default");
        }
        if (RouteDefinition.DEFAULT_SOURCE.equals(s)) {
            return new SourcePattern(s, Kind.DEFAULT);
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw new IllegalArgumentException("'source' \"" + s + "\" contains whitespace or a control character");
            }
            if (c == ',') {
                throw new IllegalArgumentException("'source' \"" + s
                        + "\" contains ','; a route has one source pattern: use a glob or one route per source");
            }
            if (c == '[' || c == ']' || c == '{' || c == '}' || c == '\\' || c == '"') {
                throw new IllegalArgumentException("'source' \"" + s + "\" contains '" + c
                        + "'; only the wildcards * and ? are supported");
            }
        }
        boolean glob = Glob.hasWildcard(s);
        return new SourcePattern(s, glob ? Kind.GLOB : Kind.EXACT);
    }

    Kind kind() {
        return kind;
    }

    boolean isDefault() {
        return kind == Kind.DEFAULT;
    }

    /** Whether {@code source} matches; the {@code default} pattern matches nothing by itself. */
    boolean matches(String source) {
        switch (kind) {
            case EXACT: return text.equals(source);
            case GLOB: return glob(text, source);
            case ANY: return true;
            default: return false;
        }
    }

    /** Iterative wildcard match with single-star backtracking: linear for typical patterns. */
    static boolean glob(String pattern, String s) {
        return Glob.matches(pattern, s);
    }

    @Override
    public String toString() {
        return text;
    }
}
