package io.signalbox.cli;

import static io.signalbox.cli.Json.list;
import static io.signalbox.cli.Json.map;
import static io.signalbox.cli.Json.number;
import static io.signalbox.cli.Json.string;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bin/signalbox status}: the health summary of {@code GET /health}, the message rates from
 * two {@code /metrics} samples (or, without them, the totals received per source), and a line
 * per backend.
 */
final class StatusView {
    static final String RECEIVED = "signalbox_messages_received_total";
    static final String ROUTED = "signalbox_messages_routed_total";

    /** Two samples {@code seconds} apart, or nulls if /metrics could not be read. */
    record Rates(MetricsSample before, MetricsSample after, double seconds) {
    }

    private StatusView() {
    }

    /**
     * @param health   the /health document
     * @param rates    the /metrics samples, or {@code null}
     * @param sources  the /api/sources document, used when there are no rates, or {@code null}
     */
    static List<String> render(Map<String, Object> health, String base, Rates rates, Map<String, Object> sources) {
        List<String> out = new ArrayList<>();
        String status = String.valueOf(string(health, "status")).toUpperCase(Locale.ROOT);
        out.add("Signalbox " + status + ", up " + Format.duration(number(health, "uptime_seconds") * 1000) + ", "
                + TraceView.plural(number(health, "connections"), "connection") + ", "
                + TraceView.plural(number(health, "sources"), "source") + " (" + base + ")");
        Map<String, Double> routedRate = Map.of();
        if (rates != null) {
            double received = perSecond(rates.before().sum(RECEIVED), rates.after().sum(RECEIVED), rates.seconds());
            double routed = perSecond(rates.before().sum(ROUTED), rates.after().sum(ROUTED), rates.seconds());
            out.add("rates over " + String.format(Locale.ROOT, "%.1f", rates.seconds()) + " s: received "
                    + rateText(received) + ", routed " + rateText(routed) + "; received since start "
                    + total(rates.after().sum(RECEIVED)));
            routedRate = new java.util.HashMap<>();
            Map<String, Double> before = rates.before().byLabel(ROUTED, "backend");
            for (Map.Entry<String, Double> e : rates.after().byLabel(ROUTED, "backend").entrySet()) {
                routedRate.put(e.getKey(), perSecond(before.getOrDefault(e.getKey(), 0.0), e.getValue(), rates.seconds()));
            }
        } else if (sources != null) {
            long total = 0;
            StringBuilder per = new StringBuilder();
            for (Object o : list(sources.get("sources"))) {
                Map<String, Object> s = map(o);
                total += number(s, "received_total");
                per.append(per.length() == 0 ? "" : ", ").append(string(s, "name")).append(' ')
                        .append(Format.count(number(s, "received_total")));
            }
            out.add("received since start: " + Format.count(total) + (per.length() > 0 ? " (" + per + ")" : "")
                    + "; no rates (/metrics not available)");
        }
        List<Object> backends = list(health.get("backends"));
        if (backends.isEmpty()) {
            out.add("backends: none");
        } else {
            out.add("backends:");
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("NAME", "KIND", "STATE", "ROUTED/S", "ROUTED", "WRITTEN", "QUEUED", "SPOOLED", "FAILURES",
                    "DEAD LETTERS", "SPOOL DROPS"));
            for (Object o : backends) {
                Map<String, Object> b = map(o);
                Double rate = routedRate.get(string(b, "name"));
                rows.add(List.of(string(b, "name"), String.valueOf(string(b, "kind")), String.valueOf(string(b, "state")),
                        rate == null || rate.isNaN() ? "-" : Format.rate(rate), Format.count(number(b, "routed_messages")),
                        // written: what the backend wrote (routed also counts what waits in the spool); "-" from older sidecars
                        b.containsKey("written_messages") ? Format.count(number(b, "written_messages")) : "-",
                        Format.count(number(b, "queued_messages")),
                        Format.count(number(b, "spool_messages")) + " (" + Format.bytes(number(b, "spool_bytes")) + ")",
                        Format.count(number(b, "write_failures")), Format.count(number(b, "dead_letter_messages")),
                        Format.count(number(b, "spool_dropped_messages"))));
            }
            out.addAll(Format.table(rows, "  "));
        }
        Map<String, Object> error = map(health.get("last_config_error"));
        long errors = number(health, "config_errors");
        if (error.isEmpty()) {
            out.add("configuration: " + (errors == 0 ? "no errors" : TraceView.plural(errors, "rejected configuration")));
        } else {
            out.add("configuration: " + TraceView.plural(errors, "rejected configuration") + "; the last at "
                    + string(error, "at") + " (" + string(error, "pid") + "): " + string(error, "message"));
        }
        return out;
    }

    private static double perSecond(double before, double after, double seconds) {
        if (Double.isNaN(after) || seconds <= 0) {
            return Double.NaN;
        }
        return Math.max(0, after - (Double.isNaN(before) ? 0 : before)) / seconds;
    }

    private static String rateText(double perSecond) {
        return Double.isNaN(perSecond) ? "-" : Format.rate(perSecond) + " msg/s";
    }

    private static String total(double v) {
        return Double.isNaN(v) ? "-" : Format.count(Math.round(v));
    }
}
