package io.signalbox.cli;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code signalbox query}: a Prometheus API answer ({@code /api/v1/query} or {@code query_range}) as a
 * table. Instant vectors: one row per series ({@code SERIES  VALUE}); range results: per series
 * its labels, then one {@code time  value} row per step.
 */
final class QueryView {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private QueryView() {
    }

    static List<String> render(Map<String, Object> answer, ZoneId zone) {
        Map<String, Object> data = Json.map(answer.get("data"));
        String type = Json.string(data, "resultType");
        List<String> out = new ArrayList<>();
        if ("scalar".equals(type)) {
            List<Object> v = Json.list(data.get("result"));
            out.add(String.valueOf(v.get(1)));
            return out;
        }
        List<Object> result = Json.list(data.get("result"));
        if (result.isEmpty()) {
            out.add("(no data)");
            return out;
        }
        if ("vector".equals(type)) {
            List<String[]> rows = new ArrayList<>();
            int width = "SERIES".length();
            for (Object o : result) {
                Map<String, Object> s = Json.map(o);
                String labels = labels(Json.map(s.get("metric")));
                String value = String.valueOf(Json.list(s.get("value")).get(1));
                rows.add(new String[] {labels, value});
                width = Math.max(width, labels.length());
            }
            out.add(pad("SERIES", width) + "  VALUE");
            for (String[] r : rows) {
                out.add(pad(r[0], width) + "  " + r[1]);
            }
            return out;
        }
        for (Object o : result) { // matrix
            Map<String, Object> s = Json.map(o);
            out.add(labels(Json.map(s.get("metric"))));
            for (Object p : Json.list(s.get("values"))) {
                List<Object> point = Json.list(p);
                long ms = new BigDecimal(String.valueOf(point.get(0))).movePointRight(3).longValue();
                out.add("  " + TIME.format(Instant.ofEpochMilli(ms).atZone(zone)) + "  " + point.get(1));
            }
        }
        return out;
    }

    static String labels(Map<String, Object> metric) {
        StringBuilder sb = new StringBuilder();
        Object name = metric.get("__name__");
        if (name != null) {
            sb.append(name);
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : metric.entrySet()) {
            if (e.getKey().equals("__name__")) {
                continue;
            }
            sb.append(first ? "" : ", ").append(e.getKey()).append("=\"").append(e.getValue()).append('"');
            first = false;
        }
        return sb.append('}').toString();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}
