package io.signalbox.alerting.internal;

import java.math.BigDecimal;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of Prometheus' annotation/label templates that rule files commonly use: {@code {{ $value }}},
 * {@code {{ .Value }}}, {@code {{ $labels.name }}}, {@code {{ .Labels.name }}}, each optionally piped to
 * {@code humanize}. Anything else between {@code {{ }}} is left as written.
 */
final class Templates {
    private static final Pattern ACTION = Pattern.compile(
            "\\{\\{\\s*(?:(\\$value|\\.Value)|(?:\\$labels|\\.Labels)\\.([a-zA-Z_][a-zA-Z0-9_]*))\\s*(\\|\\s*humanize\\s*)?\\}\\}");

    private Templates() {
    }

    static String expand(String template, Map<String, String> labels, double value) {
        if (template.indexOf("{{") < 0) {
            return template;
        }
        Matcher m = ACTION.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String out;
            if (m.group(1) != null) {
                out = m.group(3) != null ? humanize(value) : format(value);
            } else {
                out = labels.getOrDefault(m.group(2), "");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(out));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Like Go's {@code %v} of a float64 for the usual values: 85, 85.5, NaN, +Inf. */
    static String format(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** Four significant digits with an SI prefix, as Prometheus' humanize. */
    static String humanize(double v) {
        if (v == 0 || Double.isNaN(v) || Double.isInfinite(v)) {
            return format(v);
        }
        String[] big = {"", "k", "M", "G", "T", "P", "E"};
        String[] small = {"", "m", "u", "n", "p", "f", "a"};
        double a = Math.abs(v);
        int i = 0;
        if (a >= 1) {
            while (a >= 1000 && i < big.length - 1) {
                a /= 1000;
                i++;
            }
            return trim(Math.copySign(a, v)) + big[i];
        }
        while (a < 1 && i < small.length - 1) {
            a *= 1000;
            i++;
        }
        return trim(Math.copySign(a, v)) + small[i];
    }

    private static String trim(double v) {
        return new BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }
}
