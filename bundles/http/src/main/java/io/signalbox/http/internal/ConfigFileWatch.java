package io.signalbox.http.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigCheck;

/**
 * Finds the {@code *.cfg} files that fileinstall could not read (a bad {@code \\u} escape, an
 * unterminated array …): fileinstall only logs a stack trace for them, and no configuration
 * appears. A file in a watched folder that has had no configuration for two scans in a row, with
 * the same size and modification time, is rejected like any other configuration: logged at ERROR
 * once, counted in {@code config_errors} and shown as the last error in {@code /health}. Counted
 * again only when the file changes.
 */
@Component(name = ConfigFileWatch.NAME, service = {}, immediate = true)
public final class ConfigFileWatch {
    /** Component name (stable; no configuration). */
    public static final String NAME = "io.signalbox.http.config.files";
    static final long SCAN_SECONDS = 2;
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFileWatch.class);

    private final ConfigurationAdmin configAdmin;
    private final Set<Path> folders;
    private final ScheduledExecutorService scanner;
    /** Files without a configuration at the last scan, with the stamp they had then. */
    private final Map<Path, String> unread = new HashMap<>();
    /** Files already reported, with the stamp they were reported with. */
    private final Map<Path, String> reported = new HashMap<>();

    @Activate
    public ConfigFileWatch(@Reference(name = "configAdmin") ConfigurationAdmin configAdmin, BundleContext context) {
        this(configAdmin, folders(context.getProperty("felix.fileinstall.dir")), true);
    }

    ConfigFileWatch(ConfigurationAdmin configAdmin, Set<Path> folders, boolean schedule) {
        this.configAdmin = configAdmin;
        this.folders = folders;
        this.scanner = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "signalbox-config-files");
            t.setDaemon(true);
            return t;
        });
        if (schedule && !folders.isEmpty()) {
            scanner.scheduleWithFixedDelay(this::scanQuietly, SCAN_SECONDS, SCAN_SECONDS, TimeUnit.SECONDS);
        }
    }

    static Set<Path> folders(String dirs) {
        Set<Path> out = new HashSet<>();
        if (dirs != null) {
            for (String d : dirs.split(",")) {
                if (!d.isBlank()) {
                    out.add(Path.of(d.trim()).toAbsolutePath().normalize());
                }
            }
        }
        return out;
    }

    private void scanQuietly() {
        try {
            scan();
        } catch (IOException | RuntimeException e) {
            LOG.debug("Scanning the configuration folders failed: {}", e.toString());
        }
    }

    /** One scan; returns the files reported in it. */
    synchronized Set<Path> scan() throws IOException {
        Set<Path> applied = new HashSet<>();
        try {
            Configuration[] all = configAdmin.listConfigurations("(" + BackendNames.FILEINSTALL_FILENAME + "=*)");
            if (all != null) {
                for (Configuration c : all) {
                    Object f = c.getProperties() == null ? null : c.getProperties().get(BackendNames.FILEINSTALL_FILENAME);
                    if (f != null) {
                        applied.add(file(String.valueOf(f)));
                    }
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException("a constant filter", e);
        }
        Set<Path> now = new HashSet<>();
        Set<Path> newlyReported = new HashSet<>();
        for (Path folder : folders) {
            if (!Files.isDirectory(folder)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.{cfg,config}")) {
                for (Path f : files) {
                    Path p = f.toAbsolutePath().normalize();
                    if (applied.contains(p) || !Files.isRegularFile(p)) {
                        continue;
                    }
                    String stamp = Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
                    now.add(p);
                    if (stamp.equals(unread.get(p)) && !stamp.equals(reported.get(p))) {
                        reported.put(p, stamp);
                        newlyReported.add(p);
                        String name = p.getFileName().toString();
                        String pid = name.substring(0, name.lastIndexOf('.'));
                        LOG.error(ConfigCheck.rejection(pid, Map.of(BackendNames.FILEINSTALL_FILENAME, p.toUri().toString()),
                                "fileinstall could not read the file (it is not a valid .cfg file; its error is logged"
                                        + " above); nothing of it applies"));
                    }
                    unread.put(p, stamp);
                }
            }
        }
        unread.keySet().retainAll(now);
        reported.keySet().retainAll(now);
        return newlyReported;
    }

    private static Path file(String uriOrPath) {
        try {
            return uriOrPath.startsWith("file:") ? Path.of(URI.create(uriOrPath)).toAbsolutePath().normalize()
                    : Path.of(uriOrPath).toAbsolutePath().normalize();
        } catch (IllegalArgumentException e) {
            return Path.of(uriOrPath);
        }
    }

    @Deactivate
    void deactivate() {
        scanner.shutdownNow();
    }
}
