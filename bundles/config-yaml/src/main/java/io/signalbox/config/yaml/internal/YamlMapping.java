package io.signalbox.config.yaml.internal;

import java.io.Reader;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
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
 * health:   {metrics_port: 17001}                   → PID io.signalbox.http (port)
 * backends: {files: {type: file, path: data/files}} → io.signalbox.backend.file~files
 * routing:  {"queue-*": [{backend: files, enabled: true, priority: 10, filter: {types: [event]}}]}
 *                                                   → io.signalbox.route~&lt;stem&gt;.queue-_.0
 * </pre>
 *
 * The three shapes of the design documents are read as written: a {@code sidecar:} wrapper
 * around the sections (002), a backend's settings under {@code config:} (000) or directly under
 * the backend (001), {@code enabled: false} on a backend (nothing is created, rules naming it are
 * skipped), the documents' key names ({@link DocumentKeys}), and a rule's own {@code config:}
 * (001), which makes a derived backend instance {@code <backend>.<source>.<rule index>} of the
 * same kind with those settings on top of the backend's. Keys the documents use that mean nothing
 * in Signalbox are accepted and reported in {@code notes} (one line each, logged at INFO).
 * Other keys of {@code tcp}, {@code buffers} and backends are passed through with {@code _} →
 * {@code .}; their values are checked by the components that use them. The YAML is read with
 * SnakeYAML's {@link SafeConstructor} (standard tags only, no Java types), aliases and nesting are
 * limited.
 */
final class YamlMapping {
    static final String TCP_PID = "io.signalbox.transport.tcp";
    static final String CORRELATION_PID = "io.signalbox.correlation";
    static final String HTTP_PID = "io.signalbox.http";
    static final String BACKEND_FACTORY_PREFIX = "io.signalbox.backend.";
    static final String ROUTE_FACTORY_PID = "io.signalbox.route";

    static final Set<String> SECTIONS = Set.of("tcp", "buffers", "backends", "routing", "performance", "health");
    static final Set<String> TOP_LEVEL = Set.of("sidecar", "tcp", "buffers", "backends", "routing", "performance",
            "health");
    static final Set<String> RULE_KEYS = Set.of("backend", "enabled", "priority", "filter", "config");
    static final Set<String> FILTER_KEYS = Set.of("types");

    private static final Pattern BACKEND_TYPE = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*");
    private static final Pattern INSTANCE_NAME = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Pattern NOT_NAME_CHAR = Pattern.compile("[^A-Za-z0-9_.-]");

    private final String stem;
    private final List<String> problems = new ArrayList<>();
    private final List<String> notes;
    private final ScalarConstructor constructor;
    /** Backends of this file by name (kind and settings), for the rules' derived instances. */
    private final Map<String, BackendSpec> declared = new LinkedHashMap<>();
    /** Backends of this file with {@code enabled: false}. */
    private final Set<String> disabled = new HashSet<>();

    private record BackendSpec(String kind, Map<String, Object> properties, Node key) {
    }

    private YamlMapping(String stem, ScalarConstructor constructor, List<String> notes) {
        this.stem = stem;
        this.constructor = constructor;
        this.notes = notes;
    }

    /** {@link #parse(Reader, String, int, List)} without the notes. */
    static List<ConfigSpec> parse(Reader text, String stem, int maxChars) throws YamlRejectedException {
        return parse(text, stem, maxChars, new ArrayList<>());
    }

    /**
     * The configurations of a YAML file, in this order: {@code tcp}, {@code buffers},
     * {@code health}, backends, then routes (with their derived backends before them).
     *
     * @param stem the file name without extension; it prefixes the route configuration names
     * @param maxChars the longest text accepted
     * @param notes receives one line per key that is accepted but has no meaning in Signalbox
     *              ({@code line 17: performance.worker_threads ignored: …}), and per rule skipped
     *              because its backend is disabled
     * @throws YamlRejectedException with every problem found, if anything is wrong
     */
    static List<ConfigSpec> parse(Reader text, String stem, int maxChars, List<String> notes)
            throws YamlRejectedException {
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
        List<String> found = new ArrayList<>();
        YamlMapping m = new YamlMapping(sanitise(stem), constructor, found);
        List<ConfigSpec> specs = m.root(root);
        if (!m.problems.isEmpty()) {
            throw new YamlRejectedException(m.problems);
        }
        notes.addAll(found);
        return specs;
    }

    // --- sections ------------------------------------------------------------------------

    private List<ConfigSpec> root(Node root) {
        List<ConfigSpec> specs = new ArrayList<>();
        if (root == null || isNull(root)) {
            return specs; // an empty file: no configurations
        }
        Map<String, NodeTuple> top = mapping(root, "the file", TOP_LEVEL);
        if (top == null) {
            return specs;
        }
        Map<String, NodeTuple> sections = new LinkedHashMap<>(top);
        NodeTuple wrapper = sections.remove("sidecar");
        if (wrapper != null && !isNull(wrapper.getValueNode())) {
            // 002's shape: the sections inside "sidecar:"
            Map<String, NodeTuple> inner = mapping(wrapper.getValueNode(), "sidecar", SECTIONS);
            if (inner != null) {
                for (Map.Entry<String, NodeTuple> e : inner.entrySet()) {
                    if (sections.containsKey(e.getKey())) {
                        problem(e.getValue().getKeyNode(), "section '" + e.getKey()
                                + "' is given both inside 'sidecar:' and at the top level");
                    } else {
                        sections.put(e.getKey(), e.getValue());
                    }
                }
            }
        }
        NodeTuple tcp = sections.get("tcp");
        if (tcp != null) {
            settings(tcp.getValueNode(), "tcp", DocumentKeys::tcp).ifPresent(p -> specs.add(
                    ConfigSpec.singleton(TCP_PID, p, "section tcp (" + line(tcp.getKeyNode()) + ")")));
        }
        NodeTuple buffers = sections.get("buffers");
        if (buffers != null) {
            settings(buffers.getValueNode(), "buffers", DocumentKeys::buffers).ifPresent(p -> specs.add(
                    ConfigSpec.singleton(CORRELATION_PID, p, "section buffers (" + line(buffers.getKeyNode()) + ")")));
        }
        NodeTuple performance = sections.get("performance");
        if (performance != null) {
            settings(performance.getValueNode(), "performance", DocumentKeys::performance); // only ignored keys
        }
        NodeTuple health = sections.get("health");
        if (health != null) {
            settings(health.getValueNode(), "health", DocumentKeys::health).ifPresent(p -> {
                if (!p.isEmpty()) {
                    specs.add(ConfigSpec.singleton(HTTP_PID, p, "section health (" + line(health.getKeyNode()) + ")"));
                }
            });
        }
        NodeTuple backends = sections.get("backends");
        if (backends != null) {
            backends(backends.getValueNode(), specs);
        }
        NodeTuple routing = sections.get("routing");
        if (routing != null) {
            routing(routing.getValueNode(), specs);
        } else {
            backendsWithoutRouting(specs);
        }
        return specs;
    }

    private void backends(Node node, List<ConfigSpec> specs) {
        for (Map.Entry<String, NodeTuple> e : section(node, "backends").entrySet()) {
            String name = e.getKey();
            Node key = e.getValue().getKeyNode();
            Node value = e.getValue().getValueNode();
            String what = "backend '" + name + "'";
            if (!INSTANCE_NAME.matcher(name).matches()) {
                problem(key, "backend name '" + name + "' may only contain letters, digits, '_', '.' and '-'");
            }
            if (!(value instanceof MappingNode)) {
                problem(value, what + " must be a map of settings with at least 'type', e.g. "
                        + "{type: file, path: data/files}");
                continue;
            }
            Map<String, NodeTuple> entries = mapping(value, what, null);
            if (entries == null) {
                continue;
            }
            int before = problems.size();
            String kind = null;
            boolean enabled = true;
            List<NodeTuple> settings = new ArrayList<>();
            for (Map.Entry<String, NodeTuple> s : entries.entrySet()) {
                Node v = s.getValue().getValueNode();
                switch (s.getKey()) {
                    case "type":
                        kind = kind(v, what);
                        break;
                    case "enabled": // 000: a backend that is switched off
                        Object on = scalar(v, what + " enabled");
                        if (on instanceof Boolean) {
                            enabled = (Boolean) on;
                        } else if (on != null) {
                            problem(v, what + " enabled must be true or false, not '" + on + "'");
                        }
                        break;
                    case "config": // 000: the settings one level down
                        Map<String, NodeTuple> nested = isNull(v) ? Map.of() : mapping(v, what + " config", null);
                        if (nested != null) {
                            settings.addAll(nested.values());
                        }
                        break;
                    default:
                        settings.add(s.getValue());
                }
            }
            if (kind == null && problems.size() == before) {
                problem(key, what + " has no 'type' (the backend kind, e.g. type: file)");
            }
            Map<String, Object> p = backendSettings(settings, kind, what, false);
            if (problems.size() != before || p == null) {
                continue;
            }
            if (!enabled) {
                disabled.add(name);
                notes.add(line(key) + ": " + what + " is disabled (enabled: false): not created, and rules naming it "
                        + "are skipped");
                continue;
            }
            declared.put(name, new BackendSpec(kind, p, key));
        }
    }

    /** The backend kind of a {@code type:}, the documents' names included; null with a problem. */
    private String kind(Node v, String what) {
        String type = scalarText(v, what + " type");
        if (type == null) {
            return null;
        }
        String kind = DocumentKeys.kind(type);
        if (!BACKEND_TYPE.matcher(kind).matches()) {
            problem(v, what + " type '" + type + "' is not a backend kind (lower-case letters "
                    + "and digits, e.g. file, webhook, postgres)");
            return null;
        }
        return kind;
    }

    /** A backend's (or a rule override's) settings, document keys translated for its kind; null if a problem. */
    private Map<String, Object> backendSettings(List<NodeTuple> tuples, String kind, String what, boolean override) {
        Map<String, Object> p = new LinkedHashMap<>();
        Map<String, Node> origin = new HashMap<>();
        int before = problems.size();
        for (NodeTuple t : tuples) {
            Node k = t.getKeyNode();
            String keyText = ((ScalarNode) k).getValue();
            Object v = value(t.getValueNode(), what + " " + keyText);
            if (v == null) {
                continue;
            }
            Map<String, Object> out = new LinkedHashMap<>();
            String problem = DocumentKeys.backend(kind, keyText, v, override, out);
            if (problem != null) {
                problem(t.getValueNode(), what + " " + problem);
                continue;
            }
            for (Map.Entry<String, Object> e : out.entrySet()) {
                put(p, origin, e.getKey(), e.getValue(), k, keyText, what);
            }
        }
        return problems.size() == before ? p : null;
    }

    /** Adds a setting, unless it is reserved or already given (then a problem at {@code keyNode}). */
    private void put(Map<String, Object> p, Map<String, Node> origin, String key, Object value, Node keyNode,
            String keyText, String what) {
        if (key.isEmpty() || ConfigKeys.isFrameworkKey(key)) {
            problem(keyNode, what + " key '" + keyText + "' is reserved");
            return;
        }
        Node first = origin.putIfAbsent(key, keyNode);
        if (first != null) {
            problem(keyNode, what + " key '" + keyText + "' is given twice (as '" + key + "', first at "
                    + line(first) + ")");
            return;
        }
        p.put(key, value);
    }

    private void routing(Node node, List<ConfigSpec> specs) {
        Set<String> names = new HashSet<>();
        Set<String> usedDirectly = new HashSet<>();
        Set<String> usedAtAll = new HashSet<>();
        List<ConfigSpec> derived = new ArrayList<>();
        List<ConfigSpec> routes = new ArrayList<>();
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
                Rule r = rule(rules.get(i), source, i);
                if (r == null) {
                    continue;
                }
                String backend = ((String[]) r.properties.get("backends"))[0];
                usedAtAll.add(backend);
                if (disabled.contains(backend)) {
                    notes.add(line(rules.get(i)) + ": routing '" + source + "' rule " + i + " skipped: backend '"
                            + backend + "' is disabled (enabled: false)");
                    continue;
                }
                String name = base + "." + i;
                for (int n = 2; !names.add(name); n++) {
                    name = base + "_" + n + "." + i; // "queue-*" and "queue-?" both sanitise to "queue-_"
                }
                if (r.overrides != null) {
                    ConfigSpec d = derivedBackend(backend, r, source, i, name.substring(stem.length() + 1));
                    if (d == null) {
                        continue;
                    }
                    derived.add(d);
                    r.properties.put("backends", new String[] { d.name() });
                } else {
                    usedDirectly.add(backend);
                }
                routes.add(ConfigSpec.factory(ROUTE_FACTORY_PID, name, r.properties,
                        "routing " + source + " rule " + i + " (" + line(rules.get(i)) + ")"));
            }
        }
        // a backend that only rules with their own config: use is their template: only the derived
        // instances exist (001's s3 and cloudwatch backends name a region, the rules the rest)
        for (Map.Entry<String, BackendSpec> b : declared.entrySet()) {
            String name = b.getKey();
            if (usedDirectly.contains(name) || !usedAtAll.contains(name)) {
                BackendSpec spec = b.getValue();
                specs.add(ConfigSpec.factory(BACKEND_FACTORY_PREFIX + spec.kind, name, spec.properties,
                        "backend " + name + " (" + line(spec.key) + ")"));
            }
        }
        specs.addAll(derived);
        specs.addAll(routes);
    }

    /** The backends of a file without a routing section. */
    private void backendsWithoutRouting(List<ConfigSpec> specs) {
        for (Map.Entry<String, BackendSpec> b : declared.entrySet()) {
            BackendSpec spec = b.getValue();
            specs.add(ConfigSpec.factory(BACKEND_FACTORY_PREFIX + spec.kind, b.getKey(), spec.properties,
                    "backend " + b.getKey() + " (" + line(spec.key) + ")"));
        }
    }

    /**
     * The instance a rule with {@code config:} gets: {@code <backend>.<source>.<index>} (the
     * source sanitised as in the route's name, e.g. {@code nfs-file.queue-service.1}).
     */
    private ConfigSpec derivedBackend(String backend, Rule r, String source, int index, String suffix) {
        String what = "routing '" + source + "' rule " + index;
        BackendSpec base = declared.get(backend);
        if (base == null) {
            problem(r.backendNode, what + " has its own config:, so its backend '" + backend
                    + "' must be defined in this file's backends section (the rule's settings go on top of it)");
            return null;
        }
        Map<String, Object> overrides = backendSettings(r.overrides, base.kind, what + " config", true);
        if (overrides == null) {
            return null;
        }
        Map<String, Object> p = new LinkedHashMap<>(base.properties);
        if (overrides.containsKey("path") && !overrides.containsKey("allow.absolute.path")) {
            p.remove("allow.absolute.path"); // the template's allowance was for its own (absolute) path
        }
        p.putAll(overrides);
        String name = backend + "." + suffix;
        return ConfigSpec.factory(BACKEND_FACTORY_PREFIX + base.kind, name, p,
                "backend " + name + " of " + what + " (" + line(r.node) + ")");
    }

    /** A rule: route properties, and its {@code config:} entries if it has some. */
    private static final class Rule {
        final Map<String, Object> properties;
        final List<NodeTuple> overrides;
        final Node node;
        final Node backendNode;

        Rule(Map<String, Object> properties, List<NodeTuple> overrides, Node node, Node backendNode) {
            this.properties = properties;
            this.overrides = overrides;
            this.node = node;
            this.backendNode = backendNode;
        }
    }

    /** One rule {@code {backend, enabled, priority, filter: {types}, config: {…}}}, or null. */
    private Rule rule(Node node, String source, int index) {
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
        List<NodeTuple> overrides = null;
        NodeTuple config = keys.get("config");
        if (config != null && !isNull(config.getValueNode())) {
            Map<String, NodeTuple> c = mapping(config.getValueNode(), what + " config", null);
            if (c != null && !c.isEmpty()) {
                overrides = new ArrayList<>(c.values());
            }
        }
        return problems.size() == before
                ? new Rule(p, overrides, node, backend == null ? node : backend.getValueNode()) : null;
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
     * A singleton section's settings: each key through {@code translator} (the documents' keys),
     * the rest passed through with {@code _} → {@code .}. Empty if there was a problem.
     */
    private java.util.Optional<Map<String, Object>> settings(Node node, String what, DocumentKeys.Section translator) {
        Map<String, Object> p = new LinkedHashMap<>();
        if (isNull(node)) {
            return java.util.Optional.of(p); // "tcp:" alone: the component with its defaults
        }
        Map<String, NodeTuple> entries = mapping(node, what, null);
        if (entries == null) {
            return java.util.Optional.empty();
        }
        int before = problems.size();
        Map<String, Node> origin = new HashMap<>();
        List<Map.Entry<String, NodeTuple>> flat = new ArrayList<>();
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            Node valueNode = e.getValue().getValueNode();
            if (valueNode instanceof MappingNode && DocumentKeys.NESTED.contains(what + "." + e.getKey())) {
                // 002's tcp.tls: {enabled, cert, key} and tcp.auth: {type, secret}: one key per entry
                Map<String, NodeTuple> inner = mapping(valueNode, what + "." + e.getKey(), null);
                if (inner != null) {
                    for (Map.Entry<String, NodeTuple> i : inner.entrySet()) {
                        flat.add(Map.entry(e.getKey() + "." + i.getKey(), i.getValue()));
                    }
                }
            } else {
                flat.add(e);
            }
        }
        for (Map.Entry<String, NodeTuple> e : flat) {
            Node keyNode = e.getValue().getKeyNode();
            Node valueNode = e.getValue().getValueNode();
            Object v = value(valueNode, what + " " + e.getKey());
            if (v == null) {
                continue;
            }
            Map<String, Object> out = new LinkedHashMap<>();
            DocumentKeys.Outcome o = translator.translate(e.getKey(), v, out);
            if (o.problem() != null) {
                problem(o.atKey() ? keyNode : valueNode, "in " + what + ": " + o.problem());
                continue;
            }
            if (o.ignored() != null) {
                notes.add(line(keyNode) + ": " + what + "." + e.getKey() + " ignored: " + o.ignored());
                continue;
            }
            for (Map.Entry<String, Object> t : out.entrySet()) {
                put(p, origin, t.getKey(), t.getValue(), keyNode, e.getKey(), what);
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
