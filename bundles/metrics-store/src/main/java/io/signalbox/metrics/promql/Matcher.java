package io.signalbox.metrics.promql;

import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** One label matcher: {@code =}, {@code !=}, {@code =~}, {@code !~}; regular expressions are anchored, as in Prometheus. */
public record Matcher(String label, String op, String value, Pattern pattern) {

    public static Matcher of(String label, String op, String value) {
        Pattern p = null;
        if (op.equals("=~") || op.equals("!~")) {
            try {
                p = Pattern.compile("^(?:" + value + ")$", Pattern.DOTALL);
            } catch (PatternSyntaxException e) {
                throw new PromQLException("invalid regular expression in " + label + op + "\"" + value + "\": "
                        + e.getDescription());
            }
        }
        return new Matcher(label, op, value, p);
    }

    /** Whether a series with these labels matches; a missing label is the empty string. */
    public boolean matches(Map<String, String> labels) {
        String v = labels.getOrDefault(label, "");
        return switch (op) {
            case "=" -> v.equals(value);
            case "!=" -> !v.equals(value);
            case "=~" -> pattern.matcher(v).matches();
            case "!~" -> !pattern.matcher(v).matches();
            default -> throw new IllegalStateException(op);
        };
    }

    /** Whether it matches the empty string (a selector needs at least one matcher that does not). */
    public boolean matchesEmpty() {
        return matches(Map.of());
    }

    @Override
    public String toString() {
        return label + op + "\"" + value + "\"";
    }
}
