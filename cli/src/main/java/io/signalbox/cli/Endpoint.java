package io.signalbox.cli;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Where the sidecar's HTTP API is: {@code SIGNALBOX_HTTP} if set ({@code host:port},
 * {@code http://host:port} or just a port), else {@code host} and {@code port} of
 * {@code etc/io.signalbox.http.cfg} in the distribution folder, else 127.0.0.1:17001. A
 * wildcard host (0.0.0.0, ::) is reached on the loopback address.
 */
final class Endpoint {
    static final String ENV = "SIGNALBOX_HTTP";
    static final String CFG = "etc/io.signalbox.http.cfg";
    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 17001;

    private Endpoint() {
    }

    static URI resolve(Map<String, String> env, Path home) {
        String override = env.get(ENV);
        if (override != null && !override.isBlank()) {
            return fromOverride(override.strip());
        }
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        Path cfg = home.resolve(CFG);
        if (Files.isReadable(cfg)) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(cfg, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot read " + cfg + ": " + e.getMessage(), e);
            }
            String h = typedValue(p.getProperty("host"));
            if (h != null && !h.isEmpty() && !h.startsWith("${")) {
                host = h;
            }
            String portValue = typedValue(p.getProperty("port"));
            if (portValue != null && !portValue.isEmpty() && !portValue.startsWith("${")) {
                port = port(portValue, cfg.toString());
            }
        }
        return uri(host, port);
    }

    private static URI fromOverride(String value) {
        String v = value;
        if (v.startsWith("http://")) {
            v = v.substring("http://".length());
        } else if (v.contains("://")) {
            throw new IllegalArgumentException(ENV + " must be host:port or http://host:port, is " + value);
        }
        if (v.endsWith("/")) {
            v = v.substring(0, v.length() - 1);
        }
        int colon = v.lastIndexOf(':');
        if (colon < 0) {
            return v.chars().allMatch(Character::isDigit) ? uri(DEFAULT_HOST, port(v, ENV)) : uri(v, DEFAULT_PORT);
        }
        String host = v.substring(0, colon);
        return uri(host.isEmpty() ? DEFAULT_HOST : host, port(v.substring(colon + 1), ENV));
    }

    /** fileinstall's typed syntax ({@code I"17001"}, {@code "127.0.0.1"}) or a plain value. */
    static String typedValue(String raw) {
        if (raw == null) {
            return null;
        }
        String v = raw.strip();
        int quote = v.indexOf('"');
        if (quote >= 0 && quote <= 1 && v.endsWith("\"") && v.length() >= quote + 2) {
            return v.substring(quote + 1, v.length() - 1);
        }
        return v;
    }

    private static int port(String value, String where) {
        try {
            int p = Integer.parseInt(value.strip());
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("the port in " + where + " must be 1..65535, is " + value);
    }

    private static URI uri(String host, int port) {
        String h = host.strip();
        if (h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]") || h.equals("*")) {
            h = DEFAULT_HOST;
        }
        if (h.contains(":") && !h.startsWith("[")) {
            h = "[" + h + "]";
        }
        return URI.create("http://" + h + ":" + port);
    }
}
