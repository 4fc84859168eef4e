package io.signalbox.api;

import java.lang.annotation.Annotation;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the values of one configuration and collects every problem, each worded the same way
 * in every Signalbox component:
 * <ul>
 * <li>{@code 'pool.size' must be 1..64, is 0}</li>
 * <li>{@code 'buffer.kb' must be >= 1, is 0}</li>
 * <li>{@code 'method' must be one of POST, PUT, is "GET"}</li>
 * <li>{@code 'url' is required, e.g. url=https://hooks.example.com/signalbox}</li>
 * <li>{@code 'endpoint' must be an http:// or https:// URL with a host, e.g. endpoint=http://127.0.0.1:9000}</li>
 * <li>{@code 'password' refers to environment variable PGPASS, which is not set}</li>
 * </ul>
 * A settings record is built as {@code ConfigValues v = ConfigValues.of(Config.class, config,
 * properties); … v.range(…) …; v.done(); return new Settings(…);} — {@link #done} throws one
 * {@link ConfigCheck.Rejected} naming every problem, so an operator fixes them all at once.
 * Values are never echoed for secrets ({@link #secret}) and URLs are shown only by their scheme.
 */
public final class ConfigValues {
    private static final Pattern ENV = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

    private final Map<String, ?> properties;
    private final Function<String, String> env;
    private final List<String> problems = new ArrayList<>();

    private ConfigValues(Map<String, ?> properties, Function<String, String> env) {
        this.properties = properties;
        this.env = env;
    }

    /**
     * Starts the check of a typed configuration: unknown keys and values of the wrong type are
     * rejected at once ({@link ConfigCheck#keysAndTypes}); the typed values can be read after it.
     *
     * @throws ConfigCheck.Rejected if a key is unknown or a value has the wrong type
     */
    public static <A extends Annotation> ConfigValues of(Class<A> type, A config, Map<String, ?> properties) {
        String keysAndTypes = ConfigCheck.keysAndTypes(type, config, properties);
        if (keysAndTypes != null) {
            throw new ConfigCheck.Rejected(keysAndTypes);
        }
        return new ConfigValues(properties, System::getenv);
    }

    /** The same, resolving {@code ${env:NAME}} through {@code env} (tests pass their own). */
    public static <A extends Annotation> ConfigValues of(Class<A> type, A config, Map<String, ?> properties,
            Function<String, String> env) {
        ConfigValues v = of(type, config, properties);
        return new ConfigValues(v.properties, env);
    }

    /** {@code " x "} and {@code "\"x\""} → {@code x}; {@code null} → empty. Config files may quote strings. */
    public static String unquote(String value) {
        if (value == null) {
            return "";
        }
        String t = value.trim();
        if (t.length() >= 2 && t.charAt(0) == '"' && t.charAt(t.length() - 1) == '"') {
            t = t.substring(1, t.length() - 1).trim();
        }
        return t;
    }

    /** Whether the raw configuration sets {@code key} (to a non-blank value). */
    public boolean isSet(String key) {
        Object v = properties.get(key);
        return v != null && !unquote(v.toString()).isEmpty();
    }

    /** {@code value} if within {@code min..max}, else a problem (and {@code min}). */
    public long range(String key, long value, long min, long max) {
        if (value < min || value > max) {
            problems.add("'" + key + "' must be " + min + ".." + max + ", is " + value);
            return min;
        }
        return value;
    }

    /** {@code value} if within {@code min..max}, else a problem (and {@code min}). */
    public int range(String key, int value, int min, int max) {
        return (int) range(key, (long) value, min, max);
    }

    /** {@code value} if within {@code min..max} (and a number), else a problem (and {@code min}). */
    public double range(String key, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            problems.add("'" + key + "' must be " + plain(min) + ".." + plain(max) + ", is " + plain(value));
            return min;
        }
        return value;
    }

    /** {@code value} if at least {@code min}, else a problem (and {@code min}). */
    public long atLeast(String key, long value, long min) {
        if (value < min) {
            problems.add("'" + key + "' must be >= " + min + ", is " + value);
            return min;
        }
        return value;
    }

    /** {@code value} if at least {@code min}, else a problem (and {@code min}). */
    public int atLeast(String key, int value, int min) {
        return (int) atLeast(key, (long) value, min);
    }

    /** {@code value} if at least {@code min} (and a number), else a problem (and {@code min}). */
    public double atLeast(String key, double value, double min) {
        if (!(value >= min)) {
            problems.add("'" + key + "' must be >= " + plain(min) + ", is " + plain(value));
            return min;
        }
        return value;
    }

    /** The unquoted text; a problem naming an example if it is empty. */
    public String required(String key, String value, String example) {
        String t = unquote(value);
        if (t.isEmpty()) {
            problems.add("'" + key + "' is required, e.g. " + key + "=" + example);
        }
        return t;
    }

    /** The unquoted value if it is one of {@code allowed} (ignoring case; returned as listed), else a problem. */
    public String oneOf(String key, String value, String... allowed) {
        String t = unquote(value);
        for (String a : allowed) {
            if (a.equalsIgnoreCase(t)) {
                return a;
            }
        }
        problems.add("'" + key + "' must be one of " + String.join(", ", allowed) + ", is \"" + t + "\"");
        return allowed[0];
    }

    /**
     * An {@code http://} or {@code https://} URL with a host and without user info; {@code null}
     * if the value is empty and {@code example} is {@code null} (optional), else a problem. The
     * text of a bad URL is not repeated (its path or query may hold a token).
     */
    public URI httpUrl(String key, String value, String example) {
        String t = unquote(value);
        if (t.isEmpty()) {
            if (example != null) {
                problems.add("'" + key + "' is required, e.g. " + key + "=" + example);
            }
            return null;
        }
        String shape = "'" + key + "' must be an http:// or https:// URL with a host"
                + (example != null ? ", e.g. " + key + "=" + example : "");
        URI uri;
        try {
            uri = new URI(t);
        } catch (URISyntaxException e) {
            problems.add(shape + " (" + e.getReason() + " at index " + e.getIndex() + ")");
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getHost().isEmpty()) {
            problems.add(shape + (uri.getScheme() == null ? "" : " (scheme is \"" + uri.getScheme() + "\")"));
            return null;
        }
        if (uri.getRawUserInfo() != null) {
            problems.add("'" + key + "' must not carry user info (user:password@); pass credentials another way");
            return null;
        }
        return uri;
    }

    /**
     * A value that may be secret: {@code ${env:NAME}} as the whole value is resolved (fileinstall
     * usually did that already), an unset variable is a problem. The value never appears in a problem.
     */
    public String secret(String key, String value) {
        String t = unquote(value);
        Matcher m = ENV.matcher(t);
        if (!m.matches()) {
            return t;
        }
        String v = env.apply(m.group(1));
        if (v == null || v.isEmpty()) {
            problems.add("'" + key + "' refers to environment variable " + m.group(1) + ", which is not set");
            return "";
        }
        return v.trim();
    }

    /**
     * The result of a parser that throws {@link IllegalArgumentException} with a one-line reason
     * (a path template, a policy name …); on failure the reason is a problem and the result {@code null}.
     */
    public <T> T parse(Supplier<T> parser) {
        try {
            return parser.get();
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    /** Adds {@code problem} unless {@code ok}. */
    public void check(boolean ok, String problem) {
        if (!ok) {
            problems.add(problem);
        }
    }

    /** Adds a problem. */
    public void problem(String problem) {
        problems.add(problem);
    }

    /** The problems found so far. */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /** Throws one {@link ConfigCheck.Rejected} naming every problem, if there is any. */
    public void done() {
        if (!problems.isEmpty()) {
            throw new ConfigCheck.Rejected(String.join("; ", problems));
        }
    }

    private static String plain(double d) {
        return d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    @Override
    public String toString() {
        return "ConfigValues" + Arrays.toString(problems.toArray());
    }
}
