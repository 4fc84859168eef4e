package io.signalbox.backend.postgres.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.postgresql.Driver;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;

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
public record PostgresSettings(String url, String user, Secret password, String eventsTable, String metricsTable,
        boolean schemaCreate, int connectTimeoutSeconds, int socketTimeoutSeconds, int poolSize) {

    private static final Pattern TABLE = Pattern.compile("([a-z_][a-z0-9_]{0,62}\\.)?[a-z_][a-z0-9_]{0,62}");

    /** Where the password comes from; read when a connection is opened (so a rotated file is picked up). */
    public interface Secret {
        /** The password, or {@code null} for none. */
        String value() throws IOException;

        /** What may be logged: the source, never the value. */
        String describe();
    }

    /**
     * Validates the whole configuration.
     *
     * @param env environment lookup for {@code ${env:NAME}} ({@code System::getenv} in production)
     * @throws ConfigCheck.Rejected with every problem, none of which contains the password
     */
    public static PostgresSettings of(PostgresConfig c, Map<String, ?> properties,
            Function<String, String> env) {
        ConfigValues v = ConfigValues.of(PostgresConfig.class, c, properties, env);
        String given = ConfigValues.unquote(c.url());
        String url = given;
        LibpqUri uri = null;
        if (LibpqUri.isUri(given)) {
            // the libpq form of the design documents: user and password move out of the URL
            uri = v.parse(() -> LibpqUri.parse(given));
            url = uri == null ? given : uri.jdbcUrl();
        }
        Properties parsed = url.startsWith("jdbc:postgresql:") ? Driver.parseURL(url, null) : null;
        if (parsed == null) {
            if (!LibpqUri.isUri(url)) {
                v.problem("'url' must be a PostgreSQL JDBC URL (jdbc:postgresql://127.0.0.1:5432/signalbox) or a "
                        + "connection URI (postgresql://user:password@127.0.0.1:5432/signalbox)");
            }
        } else {
            v.check(!parsed.containsKey("password"),
                    "'url' must not carry the password: use password=${env:NAME} or password.file");
        }
        String user = v.required("user", c.user(), "signalbox");
        if (uri != null && uri.user() != null) {
            v.check(!properties.containsKey("user") || user == null || user.equals(uri.user()),
                    "'user' and the user of the connection URI in 'url' differ; give it once");
            user = uri.user();
        }
        Secret secret;
        if (uri != null && uri.password() != null) {
            v.check(ConfigValues.unquote(c.password()).isEmpty() && ConfigValues.unquote(c.password_file()).isEmpty(),
                    "the connection URI in 'url' carries a password: set 'password' / 'password.file' or the URI's, "
                            + "not both");
            secret = fixed(uri.password(), "from the connection URI in 'url'");
        } else {
            secret = password(v, c.password(), c.password_file());
        }
        String events = table(v, "events.table", c.events_table());
        String metrics = table(v, "metrics.table", c.metrics_table());
        v.check(events == null || !events.equals(metrics), "'events.table' and 'metrics.table' must differ");
        int connect = v.range("connect.timeout.seconds", c.connect_timeout_seconds(), 1, 3600);
        int socket = v.range("socket.timeout.seconds", c.socket_timeout_seconds(), 0, 86_400);
        int pool = v.range("pool.size", c.pool_size(), 1, 64);
        v.done();
        return new PostgresSettings(url, user, secret, events, metrics, c.schema_create(), connect, socket, pool);
    }

    private static String table(ConfigValues v, String key, String value) {
        String t = ConfigValues.unquote(value);
        if (!TABLE.matcher(t).matches()) {
            v.problem("'" + key + "' must be a lower-case identifier, optionally schema-qualified "
                    + "([a-z_][a-z0-9_]*, at most 63 characters each), is \"" + t + "\"");
            return null;
        }
        return t;
    }

    /** Inline (or {@code ${env:NAME}}, resolved by {@link ConfigValues#secret}) or from {@code password.file}. */
    private static Secret password(ConfigValues v, String password, String passwordFile) {
        String inline = ConfigValues.unquote(password);
        String file = ConfigValues.unquote(passwordFile);
        if (!inline.isEmpty() && !file.isEmpty()) {
            v.problem("set 'password' or 'password.file', not both");
            return null;
        }
        if (!file.isEmpty()) {
            return v.parse(() -> fromFile(file));
        }
        if (inline.isEmpty()) {
            return fixed(null, "none");
        }
        String value = v.secret("password", inline);
        // the reference may be shown, the value it resolves to never
        return fixed(value, value.equals(inline) ? "set in the configuration" : "from " + inline);
    }

    private static Secret fromFile(String file) {
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
