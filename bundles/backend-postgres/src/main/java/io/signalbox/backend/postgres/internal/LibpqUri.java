package io.signalbox.backend.postgres.internal;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A libpq connection URI ({@code postgresql://user:pass@host:port/db?sslmode=require}, the form the
 * design documents use) turned into what pgjdbc takes: a JDBC URL without credentials, the user and
 * the password. Percent-encoding is decoded in every part. The password is never part of a message
 * of this class (an invalid URI is described without echoing it).
 *
 * <p>Defaults as in libpq: no host means the local server ({@code localhost}; pgjdbc has no Unix
 * sockets), no port means 5432 (left to pgjdbc), no database means the user's name. Query
 * parameters that pgjdbc knows under the same name pass through; {@code application_name} and
 * {@code connect_timeout} are renamed to pgjdbc's {@code ApplicationName} and
 * {@code connectTimeout}; {@code user}, {@code password}, {@code dbname}, {@code host} and
 * {@code port} in the query replace the URI's parts, as in libpq; anything else is rejected.
 *
 * @param jdbcUrl  {@code jdbc:postgresql://host[:port]/db[?params]}, never with credentials
 * @param user     the user, or {@code null} if the URI names none
 * @param password the password, or {@code null} if the URI carries none
 */
record LibpqUri(String jdbcUrl, String user, String password) {

    /** libpq parameter → pgjdbc parameter, for those Signalbox passes on. */
    private static final Map<String, String> PARAMETERS = Map.ofEntries(
            Map.entry("sslmode", "sslmode"),
            Map.entry("sslcert", "sslcert"),
            Map.entry("sslkey", "sslkey"),
            Map.entry("sslrootcert", "sslrootcert"),
            Map.entry("sslpassword", "sslpassword"),
            Map.entry("options", "options"),
            Map.entry("application_name", "ApplicationName"),
            Map.entry("connect_timeout", "connectTimeout"),
            Map.entry("gssencmode", "gssEncMode"),
            Map.entry("channel_binding", "channelBinding"));

    /** Whether {@code text} is a libpq URI ({@code postgresql://} or {@code postgres://}). */
    static boolean isUri(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        return t.startsWith("postgresql://") || t.startsWith("postgres://");
    }

    /**
     * Parses a libpq URI.
     *
     * @throws IllegalArgumentException naming what is wrong, never quoting the URI
     */
    static LibpqUri parse(String uri) {
        if (!isUri(uri)) {
            throw new IllegalArgumentException("a connection URI starts with postgresql:// or postgres://");
        }
        String rest = uri.substring(uri.indexOf("://") + 3);
        int hash = rest.indexOf('#');
        if (hash >= 0) {
            throw new IllegalArgumentException("a connection URI must not have a #fragment");
        }
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String path = null;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            path = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
        }
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            if (colon >= 0) {
                password = decode(userInfo.substring(colon + 1), "the password");
                userInfo = userInfo.substring(0, colon);
            }
            user = userInfo.isEmpty() ? null : decode(userInfo, "the user name");
        }
        String hosts = hosts(rest);
        String database = path == null || path.isEmpty() ? null : decode(path, "the database name");
        Map<String, String> params = new LinkedHashMap<>();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("connection URI parameter " + (eq == 0 ? "without a name"
                            : "'" + safe(pair) + "' has no value (name=value)"));
                }
                String name = decode(pair.substring(0, eq), "a parameter name");
                String value = decode(pair.substring(eq + 1), "the value of " + name);
                switch (name) {
                    case "user": user = value; break;
                    case "password": password = value; break;
                    case "dbname": database = value; break;
                    case "host": hosts = hosts(value); break;
                    case "port":
                        hosts = withPort(hosts, port(value));
                        break;
                    default:
                        String jdbc = PARAMETERS.get(name);
                        if (jdbc == null) {
                            throw new IllegalArgumentException("connection URI parameter '" + safe(name)
                                    + "' is not supported; supported: user, password, dbname, host, port, "
                                    + String.join(", ", new java.util.TreeSet<>(PARAMETERS.keySet())));
                        }
                        params.put(jdbc, value);
                }
            }
        }
        if (database == null) {
            database = user != null ? user : "postgres"; // libpq: the database is named after the user
        }
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(hosts).append('/')
                .append(encode(database));
        char sep = '?';
        for (Map.Entry<String, String> p : params.entrySet()) {
            url.append(sep).append(p.getKey()).append('=').append(encode(p.getValue()));
            sep = '&';
        }
        return new LibpqUri(url.toString(), user, password == null || password.isEmpty() ? null : password);
    }

    /** {@code host[:port][,host[:port]…]} checked; an empty host list is the local server. */
    private static String hosts(String text) {
        if (text.isEmpty()) {
            return "localhost";
        }
        StringBuilder out = new StringBuilder();
        for (String hp : text.split(",", -1)) {
            String host = hp;
            String port = null;
            if (hp.startsWith("[")) { // IPv6 literal
                int close = hp.indexOf(']');
                if (close < 0) {
                    throw new IllegalArgumentException("connection URI host: '[' without ']'");
                }
                host = hp.substring(0, close + 1);
                String after = hp.substring(close + 1);
                if (!after.isEmpty()) {
                    if (!after.startsWith(":")) {
                        throw new IllegalArgumentException("connection URI host: unexpected text after ']'");
                    }
                    port = after.substring(1);
                }
            } else {
                int colon = hp.lastIndexOf(':');
                if (colon >= 0) {
                    host = hp.substring(0, colon);
                    port = hp.substring(colon + 1);
                }
                host = decode(host, "the host");
            }
            if (host.isEmpty()) {
                host = "localhost";
            }
            if (!host.startsWith("[") && !host.matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("connection URI host '" + safe(host)
                        + "' is not a host name or address");
            }
            out.append(out.length() == 0 ? "" : ",").append(host);
            if (port != null && !port.isEmpty()) {
                out.append(':').append(port(port));
            }
        }
        return out.toString();
    }

    private static int port(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("connection URI port '" + safe(text) + "' is not a number 1..65535");
    }

    private static String withPort(String hosts, int port) {
        StringBuilder out = new StringBuilder();
        for (String h : hosts.split(",")) {
            String host = h.startsWith("[") ? h.substring(0, h.indexOf(']') + 1)
                    : h.contains(":") ? h.substring(0, h.lastIndexOf(':')) : h;
            out.append(out.length() == 0 ? "" : ",").append(host).append(':').append(port);
        }
        return out.toString();
    }

    /** Percent-decoding (UTF-8); '+' stays '+', as in libpq. */
    private static String decode(String s, String what) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%') {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                continue;
            }
            int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
            int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("connection URI: bad percent-encoding in " + what
                        + " ('%' must be followed by two hex digits)");
            }
            out.write(hi * 16 + lo);
            i += 2;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Text from the URI that may appear in a message: short and printable only. */
    private static String safe(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return t.replaceAll("[^\\x20-\\x7e…]", "?");
    }

    @Override
    public String toString() {
        return "LibpqUri[" + jdbcUrl + ", user=" + user + ", password " + (password == null ? "none" : "set") + "]";
    }
}
