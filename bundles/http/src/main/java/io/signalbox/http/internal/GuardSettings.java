package io.signalbox.http.internal;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import io.signalbox.api.ConfigValues;
import io.signalbox.protocol.SharedSecrets;
import io.signalbox.protocol.SourceGlob;

/**
 * Who may use the HTTP server, checked by {@link GuardFilter} before any servlet.
 *
 * @param host        the configured listen address
 * @param readSecrets Bearer secret for reading (GET/HEAD except /health), {@link SharedSecrets#NONE}: open
 * @param writeSecrets Bearer secret for writing (POST), {@link SharedSecrets#NONE}: open
 * @param corsOrigins origins (scheme://host[:port]) allowed to call from a browser; empty: CORS off
 * @param allowedHosts Host header values accepted besides the configured address and the localhost forms
 */
record GuardSettings(String host, SharedSecrets readSecrets, SharedSecrets writeSecrets, Set<String> corsOrigins,
        Set<String> allowedHosts) {

    static final GuardSettings OPEN = new GuardSettings("127.0.0.1", SharedSecrets.NONE, SharedSecrets.NONE,
            Set.of(), Set.of());

    static GuardSettings of(ConfigValues v, String host, String readSecret, String writeSecret, String[] cors,
            String[] hosts) {
        SharedSecrets read = single(v, "auth.read.secret", readSecret);
        SharedSecrets write = single(v, "auth.write.secret", writeSecret);
        Set<String> origins = new TreeSet<>();
        for (String o : cors == null ? new String[0] : cors) {
            String t = ConfigValues.unquote(o).trim().toLowerCase(Locale.ROOT);
            if (t.isEmpty()) {
                continue;
            }
            v.check(t.matches("https?://[a-z0-9.\\-\\[\\]:]+"), "'cors.origins' entries must be scheme://host[:port]"
                    + " without a path, e.g. https://dashboard.example.com");
            origins.add(t);
        }
        Set<String> allowed = new TreeSet<>();
        for (String h : hosts == null ? new String[0] : hosts) {
            String t = ConfigValues.unquote(h).trim().toLowerCase(Locale.ROOT);
            if (!t.isEmpty()) {
                allowed.add(t);
            }
        }
        return new GuardSettings(host, read, write, Set.copyOf(origins), Set.copyOf(allowed));
    }

    private static SharedSecrets single(ConfigValues v, String key, String value) {
        String s = v.secret(key, value);
        if (s.isEmpty()) {
            return SharedSecrets.NONE;
        }
        SharedSecrets.Builder b = SharedSecrets.builder();
        v.parse(() -> b.add(key, s, SourceGlob.ANY));
        return b.build();
    }

    /** Whether the server listens on every interface (then any Host is accepted unless allowed.hosts is set). */
    boolean wildcard() {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    @Override
    public String toString() {
        return "read: " + (readSecrets.enabled() ? "Bearer secret" : "open") + ", write: "
                + (writeSecrets.enabled() ? "Bearer secret" : "open") + ", cors.origins=" + corsOrigins
                + ", allowed.hosts=" + allowedHosts;
    }
}
