package io.signalbox.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code signalbox alerts}: the answer of {@code GET /api/v1/rules} as a table — one row per alerting rule
 * (state, health, file/group, the last evaluation error if any), under it one row per pending or firing
 * alert (labels, value, since), and the rule files rejected at their last change.
 */
final class AlertsView {
    private AlertsView() {
    }

    static List<String> render(Map<String, Object> answer) {
        Map<String, Object> data = Json.map(answer.get("data"));
        List<String[]> rows = new ArrayList<>();
        List<String> out = new ArrayList<>();
        for (Object go : Json.list(data.get("groups"))) {
            Map<String, Object> g = Json.map(go);
            for (Object ro : Json.list(g.get("rules"))) {
                Map<String, Object> r = Json.map(ro);
                String health = Json.string(r, "health");
                String error = r.get("lastError") == null ? "" : "  error: " + r.get("lastError");
                rows.add(new String[] {Json.string(r, "name"), Json.string(r, "state"), health,
                        Json.string(g, "file") + "/" + Json.string(g, "name") + error});
                for (Object ao : Json.list(r.get("alerts"))) {
                    Map<String, Object> a = Json.map(ao);
                    rows.add(new String[] {"  " + labels(Json.map(a.get("labels"))), Json.string(a, "state"),
                            "value " + Json.string(a, "value"), "since " + Json.string(a, "activeAt")});
                }
            }
        }
        if (rows.isEmpty()) {
            out.add("(no alerting rules: drop a <name>.rules.yml into etc/)");
        } else {
            int[] w = {"RULE / ALERT".length(), "STATE".length(), "HEALTH".length()};
            for (String[] r : rows) {
                for (int i = 0; i < w.length; i++) {
                    w[i] = Math.max(w[i], r[i].length());
                }
            }
            out.add(pad("RULE / ALERT", w[0]) + "  " + pad("STATE", w[1]) + "  " + pad("HEALTH", w[2]) + "  FILE/GROUP");
            for (String[] r : rows) {
                out.add(pad(r[0], w[0]) + "  " + pad(r[1], w[1]) + "  " + pad(r[2], w[2]) + "  " + r[3]);
            }
        }
        Map<String, Object> invalid = data.get("invalidFiles") == null ? Map.of() : Json.map(data.get("invalidFiles"));
        for (Map.Entry<String, Object> e : invalid.entrySet()) {
            out.add("rejected " + e.getKey() + ": " + e.getValue() + " (its previous rules stay in force)");
        }
        return out;
    }

    private static String labels(Map<String, Object> l) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : l.entrySet()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append("=\"").append(e.getValue()).append('"');
        }
        return sb.append('}').toString();
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
