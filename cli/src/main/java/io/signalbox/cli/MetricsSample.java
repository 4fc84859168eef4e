package io.signalbox.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The samples of one {@code GET /metrics} (Prometheus text format) that {@code status} needs:
 * for a metric name, the sum over all its series or the values by one label.
 */
final class MetricsSample {
    private final String text;

    MetricsSample(String text) {
        this.text = text;
    }

    /** The sum of every sample of {@code name} (any labels), or {@code NaN} if there is none. */
    double sum(String name) {
        double sum = Double.NaN;
        for (String line : text.split("\n")) {
            Sample s = parse(line);
            if (s != null && s.name.equals(name)) {
                sum = (Double.isNaN(sum) ? 0 : sum) + s.value;
            }
        }
        return sum;
    }

    /** The samples of {@code name} summed by the value of {@code label}. */
    Map<String, Double> byLabel(String name, String label) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            Sample s = parse(line);
            if (s != null && s.name.equals(name)) {
                String key = labelValue(s.labels, label);
                if (key != null) {
                    out.merge(key, s.value, Double::sum);
                }
            }
        }
        return out;
    }

    private record Sample(String name, String labels, double value) {
    }

    /** {@code name{labels} value [timestamp]}, or {@code null} for comments, blank and odd lines. */
    private static Sample parse(String raw) {
        String line = raw.strip();
        if (line.isEmpty() || line.startsWith("#")) {
            return null;
        }
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        String name;
        String labels = "";
        String rest;
        if (brace >= 0 && (space < 0 || brace < space)) {
            int close = closingBrace(line, brace);
            if (close < 0) {
                return null;
            }
            name = line.substring(0, brace);
            labels = line.substring(brace + 1, close);
            rest = line.substring(close + 1).strip();
        } else if (space > 0) {
            name = line.substring(0, space);
            rest = line.substring(space + 1).strip();
        } else {
            return null;
        }
        int end = rest.indexOf(' ');
        String value = end < 0 ? rest : rest.substring(0, end);
        try {
            return new Sample(name, labels, Double.parseDouble(value.replace("+Inf", "Infinity")));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The closing brace of the label set, skipping quoted values (which may hold braces). */
    private static int closingBrace(String line, int open) {
        boolean quoted = false;
        for (int i = open + 1; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '}') {
                return i;
            }
        }
        return -1;
    }

    /** The unescaped value of {@code label} in {@code a="x",b="y"}, or {@code null}. */
    static String labelValue(String labels, String label) {
        int i = 0;
        while (i < labels.length()) {
            int eq = labels.indexOf('=', i);
            if (eq < 0 || eq + 1 >= labels.length() || labels.charAt(eq + 1) != '"') {
                return null;
            }
            String key = labels.substring(i, eq).strip();
            StringBuilder value = new StringBuilder();
            int j = eq + 2;
            for (; j < labels.length(); j++) {
                char c = labels.charAt(j);
                if (c == '\\' && j + 1 < labels.length()) {
                    char n = labels.charAt(++j);
                    value.append(n == 'n' ? '\n' : n);
                } else if (c == '"') {
                    break;
                } else {
                    value.append(c);
                }
            }
            if (key.equals(label)) {
                return value.toString();
            }
            i = j + 1;
            while (i < labels.length() && (labels.charAt(i) == ',' || labels.charAt(i) == ' ')) {
                i++;
            }
        }
        return null;
    }
}
