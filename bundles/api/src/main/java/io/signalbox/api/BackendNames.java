package io.signalbox.api;

import java.util.Map;

/** Derives a backend's instance name from its service (or configuration) properties. */
public final class BackendNames {
    /** Set by felix-fileinstall on configurations it creates from files. */
    public static final String FILEINSTALL_FILENAME = "felix.fileinstall.filename";

    private BackendNames() {
    }

    /**
     * The instance name: the {@value Backend#NAME} property, else the part of a factory
     * configuration's PID after {@code ~} (Config Admin 1.6 named factory configurations),
     * else the part of the fileinstall file name between the first {@code -} and the
     * extension ({@code io.signalbox.backend.file-audit.cfg} → {@code audit}).
     *
     * @return the name, or {@code null} if none can be derived
     */
    public static String of(Map<String, ?> properties) {
        Object explicit = properties.get(Backend.NAME);
        if (explicit != null && !explicit.toString().isBlank()) {
            return explicit.toString().trim();
        }
        Object pid = properties.get("service.pid");
        if (pid != null) {
            String s = pid.toString();
            int tilde = s.indexOf('~');
            if (tilde >= 0 && tilde < s.length() - 1) {
                return s.substring(tilde + 1);
            }
        }
        Object file = properties.get(FILEINSTALL_FILENAME);
        if (file != null) {
            return fromFileName(file.toString());
        }
        return null;
    }

    /** {@code file:/x/etc/io.signalbox.backend.file-audit.cfg} → {@code audit}; {@code null} if no {@code -}. */
    public static String fromFileName(String fileName) {
        String base = fileName;
        int slash = Math.max(base.lastIndexOf('/'), base.lastIndexOf('\\'));
        base = base.substring(slash + 1);
        int dot = base.lastIndexOf('.');
        if (dot > 0) {
            base = base.substring(0, dot);
        }
        int dash = base.indexOf('-');
        if (dash < 0 || dash == base.length() - 1) {
            return null;
        }
        return base.substring(dash + 1);
    }

    /**
     * The service properties a backend component registers its backend with: the configuration's
     * framework properties ({@code service.pid}, {@code service.factoryPid}, the fileinstall file
     * name …), never its values (they may hold secrets), plus {@value Backend#NAME} and
     * {@value Backend#KIND}.
     */
    public static java.util.Hashtable<String, Object> serviceProperties(Map<String, ?> properties, String name,
            String kind) {
        java.util.Hashtable<String, Object> out = new java.util.Hashtable<>();
        properties.forEach((k, v) -> {
            if (v != null && ConfigKeys.isFrameworkKey(k) && !k.startsWith(".") && !k.equals("objectClass")
                    && !k.equals("service.id") && !k.equals("service.bundleid") && !k.equals("service.scope")) {
                out.put(k, v);
            }
        });
        out.put(Backend.NAME, name);
        out.put(Backend.KIND, kind);
        return out;
    }
}
