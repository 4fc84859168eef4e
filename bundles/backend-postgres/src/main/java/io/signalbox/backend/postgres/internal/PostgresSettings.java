package io.signalbox.backend.postgres.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.postgresql.Driver;

import io.signalbox.api.ConfigCheck;

/**
 * A validated configuration. The password is kept out of {@link #toString()} and of every
 * message this class produces; {@link #describe()} is what may be logged.
 *
 * @param url            JDBC URL, {@code jdbc:postgresql://…}
 * @param user           database user
 * @param password       where the password comes from
 * @param eventsTable    table for every message, optionally schema-qualified
 * @param metricsTable   table for metric messages, optionally schema-qualified
 * @param schemaCreate   create tables (and hypertables / indexes) if missing
 * @param connectTimeoutSeconds connect and login timeout
 * @param socketTimeoutSeconds  read timeout of a statement on the wire, 0 = none
 * @param poolSize       most open connections
 */
record PostgresSettings(String url, String user, Secret password, String eventsTable, String metricsTable,
        boolean schemaCreate, int connectTimeoutSeconds, int socketTimeoutSeconds, int poolSize) {

    private static final Pattern ENV = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern TABLE = Pattern.compile("([a-z_][a-z0-9_]{0,62}\\.)?[a-z_][a-z0-9_]{0,62}");

    /** Where the password comes from; read when a connection is opened (so a rotated file is picked up). */
    interface Secret {
        /** The password, or {@code null} for none. */
        String value() throws IOException;

        /** What may be logged: the source, never the value. */
        String describe();
    }

    /**
     * Validates the whole configuration.
     *
     * @param env environment lookup ({@code System::getenv} in production)
     * @throws ConfigCheck.Rejected with every problem, none of which contains the password
     */
    static PostgresSettings of(PostgresBackendComponent.Config c, Map<String, ?> properties, Function<String, String> env) {
        String keys = ConfigCheck.keysAndTypes(PostgresBackendComponent.Config.class, c, properties);
        if (keys != null) {
            throw new ConfigCheck.Rejected(keys);
        }
        List<String> problems = new ArrayList<>();
        String url = c.url() == null ? "" : c.url().trim();
        Properties parsed = url.startsWith("jdbc:postgresql:") ? Driver.parseURL(url, null) : null;
        if (parsed == null) {
            problems.add("'url' must be a PostgreSQL JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/signalbox");
        } else if (parsed.containsKey("password")) {
            problems.add("'url' must not carry the password: use password=${env:NAME} or password.file");
        }
        String user = c.user() == null ? "" : c.user().trim();
        if (user.isEmpty()) {
            problems.add("'user' is required");
        }
        Secret secret = null;
        try {
            secret = secret(c.password(), c.password_file(), env);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        String events = table(c.events_table(), "events.table", problems);
        String metrics = table(c.metrics_table(), "metrics.table", problems);
        if (events != null && events.equals(metrics)) {
            problems.add("'events.table' and 'metrics.table' must differ");
        }
        if (c.connect_timeout_seconds() < 1 || c.connect_timeout_seconds() > 3600) {
            problems.add("'connect.timeout.seconds' must be 1..3600, is " + c.connect_timeout_seconds());
        }
        if (c.socket_timeout_seconds() < 0 || c.socket_timeout_seconds() > 86_400) {
            problems.add("'socket.timeout.seconds' must be 0..86400, is " + c.socket_timeout_seconds());
        }
        if (c.pool_size() < 1 || c.pool_size() > 64) {
            problems.add("'pool.size' must be 1..64, is " + c.pool_size());
        }
        if (!problems.isEmpty()) {
            throw new ConfigCheck.Rejected(String.join("; ", problems));
        }
        return new PostgresSettings(url, user, secret, events, metrics, c.schema_create(),
                c.connect_timeout_seconds(), c.socket_timeout_seconds(), c.pool_size());
    }

    private static String table(String value, String key, List<String> problems) {
        String t = value == null ? "" : value.trim();
        if (!TABLE.matcher(t).matches()) {
            problems.add("'" + key + "' must be a lower-case identifier, optionally schema-qualified "
                    + "([a-z_][a-z0-9_]*, at most 63 characters each), not \"" + t + "\"");
            return null;
        }
        return t;
    }

    static Secret secret(String password, String passwordFile, Function<String, String> env) {
        String inline = password == null ? "" : password;
        String file = passwordFile == null ? "" : passwordFile.trim();
        if (!inline.isEmpty() && !file.isEmpty()) {
            throw new IllegalArgumentException("set 'password' or 'password.file', not both");
        }
        if (!file.isEmpty()) {
            Path path;
            try {
                path = Path.of(file);
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("'password.file' is not a valid path: " + file, e);
            }
            if (!Files.isReadable(path) || Files.isDirectory(path)) {
                throw new IllegalArgumentException("'password.file' " + path + " is not a readable file");
            }
            return new Secret() {
                @Override
                public String value() throws IOException {
                    return stripNewline(Files.readString(path, StandardCharsets.UTF_8));
                }

                @Override
                public String describe() {
                    return "from file " + path;
                }
            };
        }
        Matcher m = ENV.matcher(inline.trim());
        if (m.matches()) {
            String name = m.group(1);
            String value = env.apply(name);
            if (value == null) {
                throw new IllegalArgumentException("'password' refers to environment variable " + name + ", which is not set");
            }
            return fixed(value, "from environment variable " + name);
        }
        if (inline.isEmpty()) {
            return fixed(null, "none");
        }
        return fixed(inline, "set in the configuration");
    }

    private static Secret fixed(String value, String description) {
        return new Secret() {
            @Override
            public String value() {
                return value;
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }

    /** A password file usually ends with a newline that is not part of the password. */
    static String stripNewline(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
            end--;
        }
        return s.substring(0, end);
    }

    /** The URL up to its query (query parameters may carry credentials). */
    String safeUrl() {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q) + "?…";
    }

    /** The effective configuration as it may be logged: no password. */
    String describe() {
        return "url=" + safeUrl() + ", user=" + user + ", password " + password.describe() + ", events.table="
                + eventsTable + ", metrics.table=" + metricsTable + ", schema.create=" + schemaCreate
                + ", connect.timeout.seconds=" + connectTimeoutSeconds + ", socket.timeout.seconds="
                + socketTimeoutSeconds + ", pool.size=" + poolSize;
    }

    @Override
    public String toString() {
        return "PostgresSettings[" + describe() + "]";
    }
}
