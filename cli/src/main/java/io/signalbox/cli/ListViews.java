package io.signalbox.cli;

import static io.signalbox.cli.Json.list;
import static io.signalbox.cli.Json.map;
import static io.signalbox.cli.Json.number;
import static io.signalbox.cli.Json.string;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code bin/signalbox routes} and {@code bin/signalbox traces}: one table each. */
final class ListViews {
    private ListViews() {
    }

    /** The routing table in force, in the order it is applied, with where each route came from. */
    static List<String> routes(Map<String, Object> doc) {
        List<Object> routes = list(doc.get("routes"));
        if (routes.isEmpty()) {
            return List.of("no routes: every message is dropped (see etc/templates/io.signalbox.route.cfg)");
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("NAME", "SOURCE", "TYPES", "BACKENDS", "PRIORITY", "ENABLED", "ORIGIN"));
        for (Object o : routes) {
            Map<String, Object> r = map(o);
            List<Object> types = list(r.get("types"));
            rows.add(List.of(string(r, "name"), string(r, "source") + (Json.flag(r, "global") ? " (global)" : ""),
                    types.isEmpty() ? "*" : join(types), join(list(r.get("backends"))),
                    Long.toString(number(r, "priority")), Json.flag(r, "enabled") ? "yes" : "no",
                    String.valueOf(string(r, "origin"))));
        }
        return Format.table(rows, "");
    }

    /** Recent traces, newest first. */
    static List<String> traces(Map<String, Object> doc, ZoneId zone) {
        List<Object> traces = list(doc.get("traces"));
        if (traces.isEmpty()) {
            return List.of("no traces held");
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("TRACE", "SPANS", "MESSAGES", "FIRST SEEN", "LAST SEEN", "SOURCES"));
        for (Object o : traces) {
            Map<String, Object> t = map(o);
            rows.add(List.of(string(t, "trace_id"), Format.count(number(t, "span_count")),
                    Format.count(number(t, "message_count")), Format.dateTime(number(t, "first_seen"), zone),
                    Format.dateTime(number(t, "last_seen"), zone), join(list(t.get("sources")))));
        }
        return Format.table(rows, "");
    }

    private static String join(List<Object> values) {
        StringBuilder sb = new StringBuilder();
        for (Object v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }
}
