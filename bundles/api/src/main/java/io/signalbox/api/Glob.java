package io.signalbox.api;

/**
 * Glob matching as route sources, secrets' source restrictions and the metrics store's filters use
 * it: {@code *} matches any run of characters (none included), {@code ?} exactly one, every other
 * character itself. No regular expressions; iterative with backtracking to the last {@code *}, so
 * linear for a pattern with one star.
 *
 * @since 2.2
 */
public final class Glob {
    private Glob() {
    }

    /** Whether {@code pattern} has a wildcard ({@code *} or {@code ?}). */
    public static boolean hasWildcard(String pattern) {
        return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
    }

    /** Whether {@code text} matches {@code pattern}. */
    public static boolean matches(String pattern, String text) {
        int p = 0;
        int i = 0;
        int star = -1;
        int mark = 0;
        while (i < text.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == text.charAt(i))) {
                p++;
                i++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = i;
            } else if (star >= 0) {
                p = star + 1;
                i = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }
}
