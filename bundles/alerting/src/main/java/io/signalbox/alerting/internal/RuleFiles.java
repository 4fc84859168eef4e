package io.signalbox.alerting.internal;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import io.signalbox.metrics.promql.Expr;
import io.signalbox.metrics.promql.Matcher;
import io.signalbox.metrics.promql.Parser;
import io.signalbox.metrics.promql.PromQLException;

/**
 * Reads a Prometheus alerting-rule file ({@code groups: - name, interval?, rules: - alert, expr, for?,
 * labels?, annotations?}) into {@link Rule}s, or rejects it whole with the line and the reason. As strict
 * as Prometheus' own loader: unknown keys, duplicate group names, invalid label names, durations and
 * expressions outside the store's PromQL subset are errors. Recording rules ({@code record:}) are not
 * supported and rejected.
 */
final class RuleFiles {
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> GROUP_KEYS = Set.of("name", "interval", "rules", "limit");
    private static final Set<String> RULE_KEYS = Set.of("alert", "expr", "for", "labels", "annotations", "record");

    private RuleFiles() {
    }

    /** Whether fileinstall should hand this file to alerting: {@code <name>.rules.yml} or {@code .rules.yaml}. */
    static boolean isRuleFile(String fileName) {
        String n = fileName.toLowerCase(java.util.Locale.ROOT);
        return !n.startsWith(".") && (n.endsWith(".rules.yml") || n.endsWith(".rules.yaml"));
    }

    static List<Rule> parse(String file, String text) throws RuleFileException {
        Node root;
        try {
            LoaderOptions o = new LoaderOptions();
            o.setAllowDuplicateKeys(false);
            root = new Yaml(o).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new RuleFileException(line, "not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new RuleFileException(0, "not valid YAML: " + e.getMessage());
        }
        List<Rule> rules = new ArrayList<>();
        if (root == null) {
            return rules; // an empty file: no rules
        }
        Map<String, Node> top = mapping(root, "the file", Set.of("groups"));
        Node groups = top.get("groups");
        if (groups == null || isNull(groups)) {
            return rules;
        }
        Set<String> groupNames = new HashSet<>();
        for (Node g : sequence(groups, "groups")) {
            Map<String, Node> gm = mapping(g, "a group", GROUP_KEYS);
            String name = string(required(gm, "name", g), "name");
            if (name.isEmpty()) {
                throw new RuleFileException(line(g), "group name must not be empty");
            }
            if (!groupNames.add(name)) {
                throw new RuleFileException(line(gm.get("name")), "groupname: \"" + name + "\" is repeated in the same file");
            }
            long interval = gm.containsKey("interval") ? duration(gm.get("interval"), "interval") : 0;
            if (gm.containsKey("limit")) {
                throw new RuleFileException(line(gm.get("limit")), "limit is not supported by Signalbox");
            }
            Node rs = gm.get("rules");
            if (rs == null || isNull(rs)) {
                continue;
            }
            for (Node r : sequence(rs, "rules")) {
                rules.add(rule(file, name, interval, r));
            }
        }
        return rules;
    }

    private static Rule rule(String file, String group, long interval, Node r) throws RuleFileException {
        Map<String, Node> m = mapping(r, "a rule", RULE_KEYS);
        if (m.containsKey("record")) {
            throw new RuleFileException(line(m.get("record")), "recording rules (record:) are not supported by Signalbox; only alerting rules");
        }
        String alert = string(required(m, "alert", r), "alert");
        if (alert.isBlank()) {
            throw new RuleFileException(line(m.get("alert")), "alert name must not be empty");
        }
        Node exprNode = required(m, "expr", r);
        String query = string(exprNode, "expr");
        Expr expr;
        try {
            expr = Parser.parse(query);
        } catch (PromQLException e) {
            throw new RuleFileException(line(exprNode), "expr \"" + query + "\" of alert " + alert + ": " + e.getMessage());
        }
        long forMs = m.containsKey("for") ? duration(m.get("for"), "for") : 0;
        Map<String, String> labels = stringMap(m.get("labels"), "labels");
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (!LABEL_NAME.matcher(e.getKey()).matches() || e.getKey().equals("__name__")) {
                throw new RuleFileException(line(m.get("labels")), "invalid label name: \"" + e.getKey() + "\"");
            }
        }
        Map<String, String> annotations = stringMap(m.get("annotations"), "annotations");
        for (String k : annotations.keySet()) {
            if (!LABEL_NAME.matcher(k).matches()) {
                throw new RuleFileException(line(m.get("annotations")), "invalid annotation name: \"" + k + "\"");
            }
        }
        return new Rule(file, group, interval, alert, query, expr, forMs, labels, annotations, metricNames(expr));
    }

    /** The names the expression's selectors require ({@code __name__="x"}), or {@code null} if one requires none. */
    static Set<String> metricNames(Expr e) {
        Set<String> names = new TreeSet<>();
        return collect(e, names) ? Collections.unmodifiableSet(names) : null;
    }

    private static boolean collect(Expr e, Set<String> names) {
        if (e instanceof Expr.Selector s) {
            for (Matcher m : s.matchers()) {
                if (m.label().equals("__name__") && m.op().equals("=")) {
                    names.add(m.value());
                    return true;
                }
            }
            return false;
        } else if (e instanceof Expr.Range r) {
            return collect(r.selector(), names);
        } else if (e instanceof Expr.Call c) {
            for (Expr a : c.args()) {
                if (!collect(a, names)) {
                    return false;
                }
            }
            return true;
        } else if (e instanceof Expr.Aggregate a) {
            return collect(a.expr(), names) && (a.param() == null || collect(a.param(), names));
        } else if (e instanceof Expr.Binary b) {
            return collect(b.lhs(), names) && collect(b.rhs(), names);
        } else if (e instanceof Expr.Negate n) {
            return collect(n.expr(), names);
        }
        return true; // a number
    }

    // ---- YAML node helpers -----------------------------------------------------------------------

    private static int line(Node n) {
        return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }

    private static boolean isNull(Node n) {
        return n instanceof ScalarNode s && n.getTag().getValue().endsWith(":null");
    }

    private static Map<String, Node> mapping(Node n, String what, Set<String> allowed) throws RuleFileException {
        if (!(n instanceof MappingNode mn)) {
            throw new RuleFileException(line(n), what + " must be a mapping");
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                throw new RuleFileException(line(t.getKeyNode()), "keys must be plain strings");
            }
            if (!allowed.contains(k.getValue())) {
                throw new RuleFileException(line(k), "field " + k.getValue() + " not found in " + what
                        + " (known: " + String.join(", ", new TreeSet<>(allowed)) + ")");
            }
            out.put(k.getValue(), t.getValueNode());
        }
        return out;
    }

    private static List<Node> sequence(Node n, String what) throws RuleFileException {
        if (!(n instanceof SequenceNode s)) {
            throw new RuleFileException(line(n), what + " must be a list");
        }
        return s.getValue();
    }

    private static Node required(Map<String, Node> m, String key, Node owner) throws RuleFileException {
        Node n = m.get(key);
        if (n == null || isNull(n)) {
            throw new RuleFileException(line(owner), key + " is required");
        }
        return n;
    }

    private static String string(Node n, String what) throws RuleFileException {
        if (!(n instanceof ScalarNode s)) {
            throw new RuleFileException(line(n), what + " must be a string");
        }
        return s.getValue();
    }

    private static long duration(Node n, String what) throws RuleFileException {
        String s = string(n, what);
        try {
            return Parser.duration(s);
        } catch (PromQLException e) {
            throw new RuleFileException(line(n), what + ": " + e.getMessage());
        }
    }

    private static Map<String, String> stringMap(Node n, String what) throws RuleFileException {
        if (n == null || isNull(n)) {
            return Map.of();
        }
        if (!(n instanceof MappingNode mn)) {
            throw new RuleFileException(line(n), what + " must be a mapping of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k) || !(t.getValueNode() instanceof ScalarNode v)) {
                throw new RuleFileException(line(t.getKeyNode()), what + " must be a mapping of strings");
            }
            out.put(k.getValue(), v.getValue());
        }
        return Collections.unmodifiableMap(out);
    }
}
