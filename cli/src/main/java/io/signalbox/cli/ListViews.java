package io.signalbox.cli;

import static io.signalbox.cli.Json.list;
import static io.signalbox.cli.Json.map;
import static io.signalbox.cli.Json.number;
import static io.signalbox.cli.Json.string;

import java.net.URI;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code bin/signalbox routes} and {@code bin/signalbox traces}: one table each. */
final class ListViews {
    private ListViews() {
    }

    /** Every message type of protocol v1: a route that takes them all shows {@code *}. */
    static final Set<String> ALL_TYPES = Set.of("event", "metric", "progress", "resource", "span", "heartbeat", "hello",
            "goodbye");

    /**
     * The routing table in force, in the order it is applied, with where each route came from
     * (a file of this distribution relative to {@code home}).
     */
    static List<String> routes(Map<String, Object> doc, Path home) {
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
                    types.isEmpty() || new HashSet<>(types).containsAll(ALL_TYPES) ? "*" : join(types),
                    join(list(r.get("backends"))), Long.toString(number(r, "priority")),
                    Json.flag(r, "enabled") ? "yes" : "no", origin(string(r, "origin"), home)));
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
            rows.add(List.of(Format.printable(string(t, "trace_id")), Format.count(number(t, "span_count")),
                    Format.count(number(t, "message_count")), Format.dateTime(number(t, "first_seen"), zone),
                    Format.dateTime(number(t, "last_seen"), zone), Format.printable(join(list(t.get("sources"))))));
        }
        return Format.table(rows, "");
    }

    /** {@code file:/opt/signalbox/etc/x.cfg} → {@code etc/x.cfg} when it is under {@code home}. */
    static String origin(String origin, Path home) {
        if (origin == null) {
            return "-";
        }
        if (origin.startsWith("file:")) {
            try {
                Path file = Path.of(URI.create(origin));
                Path base = home.toAbsolutePath().normalize();
                if (file.startsWith(base)) {
                    return base.relativize(file).toString();
                }
            } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException notAFileUri) {
                return origin;
            }
        }
        return origin;
    }

    private static String join(List<Object> values) {
        StringBuilder sb = new StringBuilder();
        for (Object v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }
}
