package io.signalbox.config.yaml.internal;

import java.io.Reader;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;

import io.signalbox.api.ConfigKeys;
import io.signalbox.api.MessageType;

/**
 * Turns the text of a {@code sidecar-config.yaml} into the configurations it stands for, or
 * rejects it as a whole with every problem and its line and column.
 *
 * <pre>
 * tcp:      {host: 127.0.0.1, port: 17000}          → PID io.signalbox.transport.tcp
 * buffers:  {batch_size: 100}                       → PID io.signalbox.correlation
 * backends: {files: {type: file, path: data/files}} → io.signalbox.backend.file~files
 * routing:  {"queue-*": [{backend: files, enabled: true, priority: 10, filter: {types: [event]}}]}
 *                                                   → io.signalbox.route~&lt;stem&gt;.queue-_.0
 * </pre>
 *
 * Keys of {@code tcp}, {@code buffers} and backends are passed through with {@code _} → {@code .};
 * their values are checked by the components that use them. The YAML is read with SnakeYAML's
 * {@link SafeConstructor} (standard tags only, no Java types), aliases and nesting are limited.
 */
final class YamlMapping {
    static final String TCP_PID = "io.signalbox.transport.tcp";
    static final String CORRELATION_PID = "io.signalbox.correlation";
    static final String BACKEND_FACTORY_PREFIX = "io.signalbox.backend.";
    static final String ROUTE_FACTORY_PID = "io.signalbox.route";

    static final Set<String> SECTIONS = Set.of("tcp", "buffers", "backends", "routing");
    static final Set<String> RULE_KEYS = Set.of("backend", "enabled", "priority", "filter");
    static final Set<String> FILTER_KEYS = Set.of("types");

    private static final Pattern BACKEND_TYPE = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*");
    private static final Pattern INSTANCE_NAME = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Pattern NOT_NAME_CHAR = Pattern.compile("[^A-Za-z0-9_.-]");

    private final String stem;
    private final List<String> problems = new ArrayList<>();
    private final ScalarConstructor constructor;

    private YamlMapping(String stem, ScalarConstructor constructor) {
        this.stem = stem;
        this.constructor = constructor;
    }

    /**
     * The configurations of a YAML file, in file order: {@code tcp}, {@code buffers}, backends,
     * then routes.
     *
     * @param stem the file name without extension; it prefixes the route configuration names
     * @param maxChars the longest text accepted
     * @throws YamlRejectedException with every problem found, if anything is wrong
     */
    static List<ConfigSpec> parse(Reader text, String stem, int maxChars) throws YamlRejectedException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setNestingDepthLimit(20);
        options.setCodePointLimit(maxChars);
        options.setProcessComments(false);
        ScalarConstructor constructor = new ScalarConstructor(options);
        Yaml yaml = new Yaml(constructor, new Representer(new DumperOptions()), new DumperOptions(), options);
        Node root;
        try {
            root = yaml.compose(text);
        } catch (MarkedYAMLException e) {
            throw new YamlRejectedException(at(e.getProblemMark()) + "not valid YAML: " + oneLine(e.getProblem()), e);
        } catch (YAMLException e) {
            throw new YamlRejectedException("not valid YAML: " + oneLine(e.getMessage()), e);
        }
        YamlMapping m = new YamlMapping(sanitise(stem), constructor);
        List<ConfigSpec> specs = m.root(root);
        if (!m.problems.isEmpty()) {
            throw new YamlRejectedException(m.problems);
        }
        return specs;
    }

    // --- sections ------------------------------------------------------------------------

    private List<ConfigSpec> root(Node root) {
        List<ConfigSpec> specs = new ArrayList<>();
        if (root == null || isNull(root)) {
            return specs; // an empty file: no configurations
        }
        Map<String, NodeTuple> sections = mapping(root, "the file", SECTIONS);
        if (sections == null) {
            return specs;
        }
        NodeTuple tcp = sections.get("tcp");
        if (tcp != null) {
            passThrough(tcp.getValueNode(), "tcp", null).ifPresent(p -> specs.add(
                    ConfigSpec.singleton(TCP_PID, p, "section tcp (" + line(tcp.getKeyNode()) + ")")));
        }
        NodeTuple buffers = sections.get("buffers");
        if (buffers != null) {
            passThrough(buffers.getValueNode(), "buffers", null).ifPresent(p -> specs.add(
                    ConfigSpec.singleton(CORRELATION_PID, p, "section buffers (" + line(buffers.getKeyNode()) + ")")));
        }
        NodeTuple backends = sections.get("backends");
        if (backends != null) {
            backends(backends.getValueNode(), specs);
        }
        NodeTuple routing = sections.get("routing");
        if (routing != null) {
            routing(routing.getValueNode(), specs);
        }
        return specs;
    }

    private void backends(Node node, List<ConfigSpec> specs) {
        for (Map.Entry<String, NodeTuple> e : section(node, "backends").entrySet()) {
            String name = e.getKey();
            Node key = e.getValue().getKeyNode();
            Node value = e.getValue().getValueNode();
            if (!INSTANCE_NAME.matcher(name).matches()) {
                problem(key, "backend name '" + name + "' may only contain letters, digits, '_', '.' and '-'");
            }
            if (!(value instanceof MappingNode)) {
                problem(value, "backend '" + name + "' must be a map of settings with at least 'type', e.g. "
                        + "{type: file, path: data/files}");
                continue;
            }
            String[] type = new String[1];
            passThrough(value, "backend '" + name + "'", type).ifPresent(p -> {
                if (type[0] == null) {
                    problem(key, "backend '" + name + "' has no 'type' (the backend kind, e.g. type: file)");
                } else {
                    specs.add(ConfigSpec.factory(BACKEND_FACTORY_PREFIX + type[0], name, p,
                            "backend " + name + " (" + line(key) + ")"));
                }
            });
        }
    }

    private void routing(Node node, List<ConfigSpec> specs) {
        Set<String> names = new HashSet<>();
        for (Map.Entry<String, NodeTuple> e : section(node, "routing").entrySet()) {
            String source = e.getKey();
            Node key = e.getValue().getKeyNode();
            Node value = e.getValue().getValueNode();
            if (source.isBlank()) {
                problem(key, "a routing source must not be empty");
                continue;
            }
            if (!(value instanceof SequenceNode)) {
                problem(value, "routing '" + source + "' must be a list of rules, e.g. - {backend: files}");
                continue;
            }
            List<Node> rules = ((SequenceNode) value).getValue();
            String base = stem + "." + sanitise(source);
            for (int i = 0; i < rules.size(); i++) {
                Map<String, Object> p = rule(rules.get(i), source, i);
                if (p == null) {
                    continue;
                }
                String name = base + "." + i;
                for (int n = 2; !names.add(name); n++) {
                    name = base + "_" + n + "." + i; // "queue-*" and "queue-?" both sanitise to "queue-_"
                }
                specs.add(ConfigSpec.factory(ROUTE_FACTORY_PID, name, p,
                        "routing " + source + " rule " + i + " (" + line(rules.get(i)) + ")"));
            }
        }
    }

    /** One rule {@code {backend, enabled, priority, filter: {types}}} → route properties, or null. */
    private Map<String, Object> rule(Node node, String source, int index) {
        String what = "routing '" + source + "' rule " + index;
        if (!(node instanceof MappingNode)) {
            problem(node, what + " must be a map like {backend: files, enabled: true, priority: 10, "
                    + "filter: {types: [event]}}");
            return null;
        }
        Map<String, NodeTuple> keys = mapping(node, what, RULE_KEYS);
        if (keys == null) {
            return null;
        }
        int before = problems.size();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("source", source);
        NodeTuple backend = keys.get("backend");
        if (backend == null) {
            problem(node, what + " has no 'backend' (the name of a backend instance)");
        } else {
            String name = scalarText(backend.getValueNode(), what + " backend");
            if (name != null) {
                p.put("backends", new String[] { name });
            }
        }
        typed(keys, "enabled", Boolean.class, "true or false", what, p);
        typed(keys, "priority", Integer.class, "a whole number", what, p);
        NodeTuple filter = keys.get("filter");
        if (filter != null && !isNull(filter.getValueNode())) {
            Map<String, NodeTuple> f = mapping(filter.getValueNode(), what + " filter", FILTER_KEYS);
            NodeTuple types = f == null ? null : f.get("types");
            if (types != null) {
                String[] t = types(types.getValueNode(), what);
                if (t != null) {
                    p.put("types", t);
                }
            }
        }
        return problems.size() == before ? p : null;
    }

    /** Puts a rule's optional scalar {@code key} of type {@code type} into {@code p}; a problem if it has another type. */
    private void typed(Map<String, NodeTuple> keys, String key, Class<?> type, String expected, String what,
            Map<String, Object> p) {
        NodeTuple setting = keys.get(key);
        if (setting == null) {
            return;
        }
        Object v = scalar(setting.getValueNode(), what + " " + key);
        if (type.isInstance(v)) {
            p.put(key, v);
        } else if (v != null) {
            problem(setting.getValueNode(), what + " " + key + " must be " + expected + ", not '" + v + "'");
        }
    }

    private String[] types(Node node, String what) {
        if (!(node instanceof SequenceNode)) {
            problem(node, what + " filter.types must be a list of message types, e.g. [event, metric]");
            return null;
        }
        List<String> out = new ArrayList<>();
        for (Node item : ((SequenceNode) node).getValue()) {
            String t = scalarText(item, what + " filter.types entry");
            if (t == null) {
                continue;
            }
            if (MessageType.fromWireName(t) == null) {
                problem(item, what + " filter.types: '" + t + "' is not a message type; known types: "
                        + knownTypes());
            } else {
                out.add(t);
            }
        }
        return out.toArray(new String[0]);
    }

    /**
     * A map of settings passed through with {@code _} → {@code .}; {@code type}, if a holder is
     * given, is taken out into it. Empty if there was a problem.
     */
    private java.util.Optional<Map<String, Object>> passThrough(Node node, String what, String[] typeHolder) {
        Map<String, Object> p = new LinkedHashMap<>();
        if (isNull(node)) {
            return java.util.Optional.of(p); // "tcp:" alone: the component with its defaults
        }
        Map<String, NodeTuple> entries = mapping(node, what, null);
        if (entries == null) {
            return java.util.Optional.empty();
        }
        int before = problems.size();
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            Node valueNode = e.getValue().getValueNode();
            String key = e.getKey().replace('_', '.');
            if (typeHolder != null && key.equals("type")) {
                String type = scalarText(valueNode, what + " type");
                if (type != null && !BACKEND_TYPE.matcher(type).matches()) {
                    problem(valueNode, what + " type '" + type + "' is not a backend kind (lower-case letters "
                            + "and digits, e.g. file, webhook, postgres)");
                } else {
                    typeHolder[0] = type;
                }
                continue;
            }
            if (key.isEmpty() || ConfigKeys.isFrameworkKey(key)) {
                problem(e.getValue().getKeyNode(), what + " key '" + e.getKey() + "' is reserved");
                continue;
            }
            if (!seen.add(key)) {
                problem(e.getValue().getKeyNode(), what + " key '" + e.getKey() + "' is given twice (as '"
                        + key + "')");
                continue;
            }
            Object v = value(valueNode, what + " " + e.getKey());
            if (v != null) {
                p.put(key, v);
            }
        }
        return problems.size() == before ? java.util.Optional.of(p) : java.util.Optional.empty();
    }

    // --- nodes ---------------------------------------------------------------------------

    /** The entries of a section that maps names to settings; none if it is empty or not a map (a problem). */
    private Map<String, NodeTuple> section(Node node, String what) {
        Map<String, NodeTuple> entries = isNull(node) ? null : mapping(node, what, null);
        return entries == null ? Map.of() : entries;
    }

    /**
     * The entries of a mapping by key text, in file order; null (with a problem) if the node is
     * not a mapping. Unknown keys (if {@code known} is given), non-scalar keys and duplicates are
     * problems.
     */
    private Map<String, NodeTuple> mapping(Node node, String what, Set<String> known) {
        if (!(node instanceof MappingNode)) {
            problem(node, what + " must be a map (key: value)");
            return null;
        }
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode)) {
                problem(k, "keys in " + what + " must be plain names");
                continue;
            }
            String key = ((ScalarNode) k).getValue();
            if (out.containsKey(key)) {
                problem(k, "'" + key + "' is given twice in " + what);
                continue;
            }
            if (known != null && !known.contains(key)) {
                String reason = ConfigKeys.unknownKeysReason(known, Map.of(key, ""));
                problem(k, "in " + what + ": " + (reason != null ? reason : "unknown key '" + key + "'"));
                continue;
            }
            out.put(key, t);
        }
        return out;
    }

    /** A Config Admin value: a scalar or a list of scalars (an array); null with a problem otherwise. */
    private Object value(Node node, String what) {
        if (node instanceof SequenceNode) {
            List<Object> items = new ArrayList<>();
            for (Node item : ((SequenceNode) node).getValue()) {
                Object v = scalar(item, what);
                if (v == null) {
                    return null;
                }
                items.add(v);
            }
            return array(items);
        }
        if (node instanceof MappingNode) {
            problem(node, what + " must be a value or a list of values, not a map");
            return null;
        }
        return scalar(node, what);
    }

    private static Object array(List<Object> items) {
        Class<?> type = items.isEmpty() ? String.class : items.get(0).getClass();
        boolean widenToLong = false;
        for (Object o : items) {
            if (o.getClass() != type) {
                if ((type == Integer.class || type == Long.class) && (o instanceof Integer || o instanceof Long)) {
                    widenToLong = true;
                } else {
                    type = String.class;
                    widenToLong = false;
                    break;
                }
            }
        }
        if (widenToLong) {
            return items.stream().map(o -> ((Number) o).longValue()).toArray(Long[]::new);
        }
        if (type == String.class) {
            return items.stream().map(String::valueOf).toArray(String[]::new);
        }
        Object[] out = (Object[]) java.lang.reflect.Array.newInstance(type, items.size());
        return items.toArray(out);
    }

    /** A scalar as String, Integer, Long, Double or Boolean; null with a problem otherwise. */
    private Object scalar(Node node, String what) {
        if (!(node instanceof ScalarNode)) {
            problem(node, what + " must be a single value");
            return null;
        }
        ScalarNode s = (ScalarNode) node;
        if (isNull(s)) {
            problem(s, what + " has no value");
            return null;
        }
        Object v;
        try {
            v = constructor.construct(s);
        } catch (YAMLException e) {
            problem(s, what + ": " + oneLine(e.getMessage()));
            return null;
        }
        if (v instanceof String || v instanceof Integer || v instanceof Long || v instanceof Double
                || v instanceof Boolean) {
            return v;
        }
        if (v instanceof BigInteger) {
            problem(s, what + ": number " + s.getValue() + " is too large");
            return null;
        }
        if (v instanceof java.util.Date) {
            return s.getValue(); // an unquoted date: keep the text as written
        }
        problem(s, what + ": values of type " + s.getTag().getValue() + " are not supported");
        return null;
    }

    /** The text of a scalar (names keep their spelling: {@code backend: 007} is "007"). */
    private String scalarText(Node node, String what) {
        if (!(node instanceof ScalarNode) || isNull(node)) {
            problem(node, what + " must be a single value");
            return null;
        }
        String text = ((ScalarNode) node).getValue().trim();
        if (text.isEmpty()) {
            problem(node, what + " must not be empty");
            return null;
        }
        return text;
    }

    private static boolean isNull(Node node) {
        return node instanceof ScalarNode && Tag.NULL.equals(node.getTag());
    }

    // --- problems ------------------------------------------------------------------------

    private void problem(Node node, String message) {
        problems.add(at(node == null ? null : node.getStartMark()) + message);
    }

    private static String at(Mark mark) {
        return mark == null ? "" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ": ";
    }

    private static String line(Node node) {
        Mark m = node.getStartMark();
        return m == null ? "?" : "line " + (m.getLine() + 1);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    private static String knownTypes() {
        StringBuilder sb = new StringBuilder();
        for (MessageType t : MessageType.values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t.wireName());
        }
        return sb.toString();
    }

    /** A name usable in a configuration name: characters other than letters, digits, _ . - become _. */
    static String sanitise(String s) {
        return NOT_NAME_CHAR.matcher(s).replaceAll("_");
    }

    /** SafeConstructor (standard YAML tags only) that constructs single scalars on request. */
    private static final class ScalarConstructor extends SafeConstructor {
        ScalarConstructor(LoaderOptions options) {
            super(options);
        }

        Object construct(ScalarNode node) {
            return constructObject(node);
        }
    }
}
