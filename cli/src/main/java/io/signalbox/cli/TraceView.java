package io.signalbox.cli;

import static io.signalbox.cli.Json.list;
import static io.signalbox.cli.Json.map;
import static io.signalbox.cli.Json.number;
import static io.signalbox.cli.Json.string;

import java.time.ZoneId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/signalbox trace <id>}: the trace of {@code GET /api/traces/{id}} drawn as text.
 *
 * <pre>
 * job-12345: file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s
 * 3 spans, 6 messages from 3 sources in 47.7s, 2026-11-23 14:00:01.000 → 14:00:48.700 (UTC)
 *
 * receive  2.3s  ok  [file-receiver]
 * │   14:00:01.100  info      got orders.csv
 * └── enqueue  0.1s  ok  [queue-service]
 *     └── load  45.2s  ok  [db-loader]
 * </pre>
 *
 * Each span shows its name, duration, status and source; its events and metrics follow it,
 * indented, with a line for those the sidecar counted but did not keep. Drawn without recursion.
 */
final class TraceView {
    private final Glyphs glyphs;
    private final ZoneId zone;

    TraceView(Glyphs glyphs, ZoneId zone) {
        this.glyphs = glyphs;
        this.zone = zone;
    }

    List<String> render(Map<String, Object> trace) {
        List<String> out = new ArrayList<>();
        out.add(summaryLine(trace));
        long start = number(trace, "first_seen");
        for (Object s : list(trace.get("by_source"))) {
            start = Math.min(start, number(map(s), "start"));
        }
        long duration = number(trace, "duration_ms");
        int sources = list(trace.get("sources")).size();
        out.add(plural(number(trace, "span_count"), "span") + ", " + plural(number(trace, "message_count"), "message")
                + " from " + plural(sources, "source") + " in " + Format.duration(duration) + ", "
                + Format.dateTime(start, zone) + " " + glyphs.arrow() + " " + Format.clock(start + duration, zone)
                + " (" + zone.getId() + ")");
        out.add("");
        tree(list(trace.get("roots")), out);
        List<Object> events = list(trace.get("events"));
        List<Object> metrics = list(trace.get("metrics"));
        long eventsCut = number(trace, "events_cut");
        long metricsCut = number(trace, "metrics_cut");
        if (!events.isEmpty() || !metrics.isEmpty() || eventsCut > 0 || metricsCut > 0) {
            if (!list(trace.get("roots")).isEmpty()) {
                out.add("");
            }
            out.add("outside any span:");
            messages(out, "    ", null, events, metrics, eventsCut, metricsCut);
        }
        return out;
    }

    /** {@code job-12345: file-receiver 2.3s → queue-service 0.1s → db-loader 45.2s}. */
    String summaryLine(Map<String, Object> trace) {
        StringBuilder sb = new StringBuilder(Format.printable(string(trace, "trace_id"))).append(':');
        List<Object> bySource = list(trace.get("by_source"));
        for (int i = 0; i < bySource.size(); i++) {
            Map<String, Object> s = map(bySource.get(i));
            sb.append(i == 0 ? " " : " " + glyphs.arrow() + " ").append(Format.printable(string(s, "source"))).append(' ')
                    .append(Format.duration(number(s, "duration_ms")));
        }
        if (bySource.isEmpty()) {
            sb.append(" (no messages)");
        }
        return sb.toString();
    }

    /** One pending span: the prefix its own line starts with, and the one its children and messages continue. */
    private record Frame(Map<String, Object> span, String linePrefix, String childPrefix) {
    }

    private void tree(List<Object> roots, List<String> out) {
        Deque<Frame> stack = new ArrayDeque<>();
        for (int i = roots.size() - 1; i >= 0; i--) {
            stack.push(new Frame(map(roots.get(i)), "", ""));
        }
        while (!stack.isEmpty()) {
            Frame f = stack.pop();
            Map<String, Object> span = f.span();
            List<Object> children = list(span.get("children"));
            out.add(f.linePrefix() + spanText(span));
            String messagePrefix = f.childPrefix() + (children.isEmpty() ? "    " : glyphs.pipe());
            messages(out, messagePrefix, string(span, "source"), list(span.get("events")), list(span.get("metrics")),
                    number(span, "events_cut"), number(span, "metrics_cut"));
            for (int i = children.size() - 1; i >= 0; i--) {
                boolean last = i == children.size() - 1;
                stack.push(new Frame(map(children.get(i)), f.childPrefix() + (last ? glyphs.last() : glyphs.branch()),
                        f.childPrefix() + (last ? "    " : glyphs.pipe())));
            }
        }
    }

    /** {@code load  45.2s  ok  [db-loader]}; an open span: {@code span 7f3a  1.2s so far  open  [worker]}. */
    private static String spanText(Map<String, Object> span) {
        boolean open = Json.flag(span, "open");
        String name = string(span, "name");
        StringBuilder sb = new StringBuilder(Format.printable(name != null ? name : "span " + string(span, "span_id")));
        sb.append("  ").append(Format.duration(number(span, "duration_ms")));
        if (open) {
            sb.append(" so far");
        }
        String status = string(span, "status");
        if (status != null) {
            sb.append("  ").append(Format.printable(status));
        }
        sb.append("  [").append(Format.printable(string(span, "source"))).append(']');
        return sb.toString();
    }

    private void messages(List<String> out, String prefix, String spanSource, List<Object> events,
            List<Object> metrics, long eventsCut, long metricsCut) {
        // events and metrics together, in time order (each list is in arrival order)
        List<Map<String, Object>> all = new ArrayList<>(events.size() + metrics.size());
        for (Object e : events) {
            all.add(map(e));
        }
        for (Object m : metrics) {
            all.add(map(m));
        }
        all.sort((a, b) -> Long.compare(number(a, "ts"), number(b, "ts")));
        for (Map<String, Object> m : all) {
            out.add(prefix + messageText(m, spanSource));
        }
        if (eventsCut > 0) {
            out.add(prefix + glyphs.ellipsis() + " " + plural(eventsCut, "more event") + " not kept");
        }
        if (metricsCut > 0) {
            out.add(prefix + glyphs.ellipsis() + " " + plural(metricsCut, "more metric") + " not kept");
        }
    }

    /** {@code 14:00:01.100  info      got orders.csv}, {@code 14:00:02.000  metric    rows = 1200 rows}. */
    private String messageText(Map<String, Object> m, String spanSource) {
        Map<String, Object> data = map(m.get("data"));
        String type = String.valueOf(string(m, "type"));
        String kind;
        String text;
        switch (type) {
            case "event":
                kind = data.containsKey("level") ? string(data, "level") : "event";
                text = data.containsKey("msg") ? string(data, "msg") : "";
                break;
            case "progress":
                kind = "progress";
                text = Format.number(data.get("percent")) + "%" + (data.get("status") != null ? " " + string(data, "status") : "");
                break;
            case "metric":
                kind = "metric";
                text = string(data, "name") + " = " + Format.number(data.get("value"))
                        + (data.get("unit") != null ? " " + string(data, "unit") : "");
                break;
            default:
                kind = type;
                StringBuilder sb = new StringBuilder();
                for (Map.Entry<String, Object> e : data.entrySet()) {
                    sb.append(sb.length() == 0 ? "" : " ").append(e.getKey()).append('=').append(Format.number(e.getValue()));
                }
                text = sb.toString();
        }
        String source = string(m, "source");
        String from = source != null && !source.equals(spanSource) ? "  [" + Format.printable(source) + "]" : "";
        return Format.clock(number(m, "ts"), zone) + "  " + pad(Format.printable(kind), 8) + "  " + Format.printable(text)
                + from;
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    static String plural(long n, String noun) {
        return Format.count(n) + " " + noun + (n == 1 ? "" : "s");
    }
}
