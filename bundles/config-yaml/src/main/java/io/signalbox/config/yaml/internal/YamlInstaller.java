package io.signalbox.config.yaml.internal;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.reader.UnicodeReader;

/**
 * Applies {@code *.yaml} / {@code *.yml} files that felix-fileinstall finds in its folders as
 * Config Admin configurations (see {@link YamlMapping} for the shape).
 *
 * <p>Every configuration created carries {@value #MARKER} = the file's absolute path. Install
 * and update are the same operation, a diff against the configurations that carry the marker:
 * new ones are created, changed ones updated, ones the file no longer names deleted; unchanged
 * ones are not touched (their components see no event). An invalid file is rejected as a whole
 * and changes nothing. Uninstall deletes exactly the configurations that carry the marker.
 *
 * <p>A singleton section ({@code tcp}, {@code buffers}, {@code health}) is skipped with a WARN when a
 * {@code <pid>.cfg} / {@code <pid>.config} for that PID is in the same folder or in one of the
 * other watched folders, or when the
 * configuration exists and was not created by this file: the other source wins, and it is
 * never deleted by this file. The same holds for a backend or route configuration of the same
 * PID created by another file.
 */
final class YamlInstaller implements ArtifactInstaller {
    /**
     * The property that ties a configuration to the YAML file that created it. Private (leading
     * {@code .}): it is not published as a service property, and {@code ConfigKeys} does not
     * report it as an unknown key.
     */
    static final String MARKER = ".signalbox.yaml.file";

    private static final Logger LOG = LoggerFactory.getLogger(YamlInstaller.class);
    private static final Set<String> CM_KEYS = Set.of("service.pid", "service.factoryPid", "service.bundleLocation");

    private final ConfigurationAdmin cm;
    private final List<File> cfgFolders;
    private volatile int maxFileChars;

    YamlInstaller(ConfigurationAdmin cm, int maxFileChars) {
        this(cm, maxFileChars, List.of());
    }

    /**
     * @param cfgFolders the other folders whose {@code <pid>.cfg} files win over a YAML section
     *                   (fileinstall's folders: a YAML file given with {@code bin/signalbox run
     *                   --config FILE} is watched in a folder of its own, and {@code etc/}'s .cfg
     *                   files must win over it every time, not depending on which watcher runs first)
     */
    YamlInstaller(ConfigurationAdmin cm, int maxFileChars, List<File> cfgFolders) {
        this.cm = cm;
        this.maxFileChars = maxFileChars;
        this.cfgFolders = List.copyOf(cfgFolders);
    }

    void maxFileChars(int chars) {
        this.maxFileChars = chars;
    }

    @Override
    public boolean canHandle(File artifact) {
        String name = artifact.getName().toLowerCase(Locale.ROOT);
        // <name>.rules.yml / .rules.yaml are Prometheus alerting-rule files: the alerting bundle's, not ours
        return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml"))
                && !name.endsWith(".rules.yml") && !name.endsWith(".rules.yaml");
    }

    @Override
    public void install(File artifact) {
        apply(artifact);
    }

    @Override
    public void update(File artifact) {
        apply(artifact);
    }

    @Override
    public synchronized void uninstall(File artifact) {
        String path = pathOf(artifact);
        try {
            Map<String, Configuration> owned = owned(path);
            deleteAll(owned);
            LOG.info("YAML configuration {} removed: {} configurations deleted {}", path, owned.size(), owned.keySet());
        } catch (IOException | InvalidSyntaxException e) {
            LOG.error("YAML configuration {} removed, but its configurations could not all be deleted", path, e);
        }
    }

    /**
     * Reads, validates and applies a file. Never throws: problems are logged (fileinstall would
     * otherwise log the file again on every scan).
     *
     * @return whether the file was applied
     */
    synchronized boolean apply(File artifact) {
        String path = pathOf(artifact);
        Map<String, Configuration> owned;
        try {
            owned = owned(path);
        } catch (IOException | InvalidSyntaxException e) {
            LOG.error("YAML configuration {} not applied: Config Admin could not list its configurations", path, e);
            return false;
        }
        List<ConfigSpec> specs;
        List<String> notes = new ArrayList<>();
        try {
            specs = read(artifact, notes);
        } catch (YamlRejectedException e) {
            LOG.error("YAML configuration {} rejected: {}; {}", path, e.getMessage(), owned.isEmpty()
                    ? "nothing was applied" : "the configurations of its previous version stay in force");
            return false;
        }
        try {
            diff(artifact.getAbsoluteFile().getParentFile(), path, specs, owned);
            for (String note : notes) {
                // keys of the design documents that mean nothing here: accepted, said once per apply
                LOG.info("YAML configuration {}: {}", path, note);
            }
            return true;
        } catch (IOException | InvalidSyntaxException e) {
            LOG.error("YAML configuration {} only partly applied: Config Admin failed", path, e);
            return false;
        }
    }

    private List<ConfigSpec> read(File artifact, List<String> notes) throws YamlRejectedException {
        byte[] bytes;
        try {
            long size = Files.size(artifact.toPath());
            if (size > 4L * maxFileChars) {
                throw new YamlRejectedException(List.of("the file has " + size + " bytes, more than the "
                        + maxFileChars + " characters allowed (max.file.kb)"));
            }
            bytes = Files.readAllBytes(artifact.toPath());
        } catch (IOException e) {
            throw new YamlRejectedException("cannot read the file: " + e, e);
        }
        String stem = artifact.getName().replaceFirst("\\.(?i:ya?ml)$", "");
        try (Reader r = new UnicodeReader(new ByteArrayInputStream(bytes))) {
            return YamlMapping.parse(r, stem, maxFileChars, notes);
        } catch (IOException e) {
            throw new YamlRejectedException("cannot read the file: " + e, e);
        }
    }

    private void diff(File folder, String path, List<ConfigSpec> specs, Map<String, Configuration> owned)
            throws IOException, InvalidSyntaxException {
        List<String> created = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        int unchanged = 0;
        for (ConfigSpec spec : specs) {
            Configuration mine = owned.remove(spec.pid());
            if (spec.isSingleton()) {
                File cfg = cfgFile(folder, spec.pid());
                if (cfg != null) {
                    LOG.warn("YAML configuration {}: {} skipped, {} configures {} and wins", path, spec.where(), cfg,
                            spec.pid());
                    continue; // "mine", if any, is left alone: fileinstall is about to replace it from the .cfg
                }
            }
            Dictionary<String, Object> wanted = dictionary(spec, path);
            if (mine == null) {
                Configuration other = existing(spec.pid());
                if (other != null) {
                    Object from = other.getProperties().get(MARKER);
                    Object file = other.getProperties().get("felix.fileinstall.filename");
                    LOG.warn("YAML configuration {}: {} skipped, configuration {} already exists ({}) and wins", path,
                            spec.where(), spec.pid(), from != null ? "from " + from
                                    : file != null ? "from " + file : "created by another party");
                    continue;
                }
                Configuration c = spec.isSingleton() ? cm.getConfiguration(spec.pid(), "?")
                        : cm.getFactoryConfiguration(spec.factoryPid(), spec.name(), "?");
                c.update(wanted);
                created.add(spec.pid());
            } else if (!ConfigSpec.sameProperties(withoutCmKeys(mine.getProperties()), toMap(wanted))) {
                mine.update(wanted);
                updated.add(spec.pid());
            } else {
                unchanged++;
            }
        }
        deleteAll(owned);
        LOG.info("YAML configuration {} applied: created {}, updated {}, deleted {}, {} unchanged", path, created,
                updated, owned.keySet(), unchanged);
    }

    /** Deletes routes first, so that no route is left naming a backend this file removes. */
    private static void deleteAll(Map<String, Configuration> configurations) throws IOException {
        List<Configuration> routesFirst = new ArrayList<>();
        for (Configuration c : configurations.values()) {
            if (YamlMapping.ROUTE_FACTORY_PID.equals(c.getFactoryPid())) {
                routesFirst.add(0, c);
            } else {
                routesFirst.add(c);
            }
        }
        for (Configuration c : routesFirst) {
            c.delete();
        }
    }

    /** The configurations this file created, by PID. */
    private Map<String, Configuration> owned(String path) throws IOException, InvalidSyntaxException {
        Map<String, Configuration> out = new LinkedHashMap<>();
        Configuration[] found = cm.listConfigurations("(" + MARKER + "=" + escape(path) + ")");
        if (found != null) {
            for (Configuration c : found) {
                out.put(c.getPid(), c);
            }
        }
        return out;
    }

    private Configuration existing(String pid) throws IOException, InvalidSyntaxException {
        Configuration[] found = cm.listConfigurations("(service.pid=" + escape(pid) + ")");
        return found == null || found.length == 0 ? null : found[0];
    }

    /**
     * Deletes the configurations whose YAML file is gone (removed while the sidecar was down).
     *
     * @return the PIDs deleted
     */
    synchronized List<String> deleteOrphans() {
        List<String> deleted = new ArrayList<>();
        try {
            Configuration[] found = cm.listConfigurations("(" + MARKER + "=*)");
            if (found == null) {
                return deleted;
            }
            Map<String, Configuration> orphans = new LinkedHashMap<>();
            Set<String> files = new TreeSet<>();
            for (Configuration c : found) {
                Object file = c.getProperties().get(MARKER);
                if (file != null && !new File(file.toString()).isFile()) {
                    orphans.put(c.getPid(), c);
                    files.add(file.toString());
                }
            }
            if (!orphans.isEmpty()) {
                deleteAll(orphans);
                deleted.addAll(orphans.keySet());
                LOG.info("deleted {} configurations of YAML files that no longer exist {}: {}", deleted.size(), files,
                        deleted);
            }
        } catch (IOException | InvalidSyntaxException e) {
            LOG.error("could not delete the configurations of YAML files that no longer exist", e);
        }
        return deleted;
    }

    private File cfgFile(File folder, String pid) {
        List<File> folders = new ArrayList<>();
        if (folder != null) {
            folders.add(folder);
        }
        folders.addAll(cfgFolders);
        for (File dir : folders) {
            for (String ext : new String[] { ".cfg", ".config" }) {
                File f = new File(dir, pid + ext);
                if (f.isFile()) {
                    return f;
                }
            }
        }
        return null;
    }

    private static Dictionary<String, Object> dictionary(ConfigSpec spec, String path) {
        Hashtable<String, Object> d = new Hashtable<>(spec.properties());
        d.put(MARKER, path);
        return d;
    }

    private static Map<String, Object> withoutCmKeys(Dictionary<String, Object> d) {
        Map<String, Object> m = new HashMap<>();
        if (d == null) {
            return m;
        }
        for (Enumeration<String> keys = d.keys(); keys.hasMoreElements();) {
            String k = keys.nextElement();
            if (!CM_KEYS.contains(k)) {
                m.put(k, d.get(k));
            }
        }
        return m;
    }

    private static Map<String, Object> toMap(Dictionary<String, Object> d) {
        return withoutCmKeys(d);
    }

    static String pathOf(File artifact) {
        return artifact.toPath().toAbsolutePath().normalize().toString();
    }

    /** RFC 1960 filter value escaping. */
    static String escape(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' || c == '(' || c == ')' || c == '*') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.toString();
    }
}
