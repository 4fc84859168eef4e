package io.signalbox.protocol;

import java.util.Objects;

import io.signalbox.api.Glob;

/**
 * A source-name pattern: {@code *} matches any run of characters (none included), {@code ?} one
 * character, everything else itself. {@code billing-*} allows {@code billing-api} and
 * {@code billing-}; {@code *} allows every source.
 */
public final class SourceGlob {
    /** Every source. */
    public static final SourceGlob ANY = new SourceGlob("*");

    private final String pattern;

    private SourceGlob(String pattern) {
        this.pattern = pattern;
    }

    /**
     * The glob {@code pattern}.
     *
     * @throws IllegalArgumentException if it is empty or contains a control character
     */
    public static SourceGlob of(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        if (pattern.isEmpty()) {
            throw new IllegalArgumentException("empty source pattern");
        }
        for (int i = 0; i < pattern.length(); i++) {
            if (Character.isISOControl(pattern.charAt(i))) {
                throw new IllegalArgumentException("source pattern with a control character");
            }
        }
        return "*".equals(pattern) ? ANY : new SourceGlob(pattern);
    }

    /** Whether {@code source} matches ({@link Glob}). */
    public boolean matches(String source) {
        if (this == ANY) {
            return true;
        }
        return Glob.matches(pattern, source);
    }

    @Override
    public String toString() {
        return pattern;
    }
}
