package io.signalbox.config.yaml.internal;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The key names of the design documents' {@code sidecar-config.yaml} files and what they are in
 * Signalbox (the table in README.md, "The design documents' configuration"). Keys not named here
 * pass through with {@code _} → {@code .} (the native keys of each component).
 */
final class DocumentKeys {
    private DocumentKeys() {
    }

    /** What became of one key: translated into {@code out}, ignored (with why), or a problem. */
    record Outcome(String problem, boolean atKey, String ignored) {
        static final Outcome DONE = new Outcome(null, false, null);

        static Outcome ignored(String why) {
            return new Outcome(null, false, why);
        }

        static Outcome valueProblem(String problem) {
            return new Outcome(problem, false, null);
        }

        static Outcome unknownKey(String problem) {
            return new Outcome(problem, true, null);
        }
    }

    /** Translates one key of a singleton section. */
    @FunctionalInterface
    interface Section {
        Outcome translate(String key, Object value, Map<String, Object> out);
    }

    /** {@code tcp} → io.signalbox.transport.tcp. */
    /** Sections whose value is a map of its own in 002 (flattened to {@code tls.enabled}, {@code auth.secret} …). */
    static final java.util.Set<String> NESTED = java.util.Set.of("tcp.tls", "tcp.auth");

    static Outcome tcp(String key, Object value, Map<String, Object> out) {
        switch (key) {
            case "tls.enabled":
            case "tls.cert":
            case "tls.key":
            case "tls.ca":
                out.put(key, value);
                return Outcome.DONE;
            case "auth.type": // 002: the only kind there is
                return "shared_secret".equals(value) ? Outcome.DONE
                        : Outcome.valueProblem("auth.type must be shared_secret, not '" + value + "'");
            case "auth.secret": { // 002 writes ${MONITORING_SECRET}: the environment variable, as ${env:…}
                String v = String.valueOf(value);
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}").matcher(v);
                out.put("auth.secret", m.matches() ? "${env:" + m.group(1) + "}" : v);
                return Outcome.DONE;
            }
            case "auth.sources":
            case "auth.secret_file":
                return passThrough(key, value, out);
            case "read_timeout": // 002: seconds a connection may stay silent
                return wholeNumber(key, value, "idle.timeout.seconds", 1, out);
            case "keepalive":
                return Outcome.ignored("Signalbox keeps every SDK connection open as long as it sends something "
                        + "and closes one silent for idle.timeout.seconds (read_timeout); it sets no TCP keepalive");
            default:
                return passThrough(key, value, out);
        }
    }

    /** {@code buffers} → io.signalbox.correlation. */
    static Outcome buffers(String key, Object value, Map<String, Object> out) {
        switch (key) {
            case "flush_interval": // 000/002: seconds
                if (!(value instanceof Number) || ((Number) value).doubleValue() <= 0) {
                    return Outcome.valueProblem("flush_interval must be a number of seconds > 0, not '" + value + "'");
                }
                out.put("flush.interval.ms", Math.round(((Number) value).doubleValue() * 1000));
                return Outcome.DONE;
            case "flush_batch_size":
                return wholeNumber(key, value, "batch.size", 1, out);
            case "max_queue_size":
                return wholeNumber(key, value, "queue.capacity", 1, out);
            case "per_source_buffer":
                return Outcome.ignored("Signalbox has no per-source limit: a source's buffer is flushed when it holds "
                        + "flush_batch_size (batch.size) messages, and max_queue_size (queue.capacity) bounds the "
                        + "messages in flight of all sources together (and queue.max.mb their bytes)");
            default:
                return passThrough(key, value, out);
        }
    }

    /** {@code performance}: nothing in it has a Signalbox equivalent. */
    static Outcome performance(String key, Object value, Map<String, Object> out) {
        switch (key) {
            case "worker_threads":
                return Outcome.ignored("Signalbox sizes its threads itself (io.threads of io.signalbox.transport.tcp, "
                        + "channel.threads of io.signalbox.routing)");
            case "max_memory_mb":
                return Outcome.ignored("bin/signalbox bounds the heap from queue.max.mb of io.signalbox.correlation; give -Xmx in "
                        + "SIGNALBOX_JAVA_OPTS to set it");
            case "gc_interval":
                return Outcome.ignored("the JVM collects garbage when it needs to; there is nothing to schedule");
            default:
                return Outcome.unknownKey(unknown(key, Set.of("worker_threads", "max_memory_mb", "gc_interval")));
        }
    }

    /** {@code health} → io.signalbox.http. */
    static Outcome health(String key, Object value, Map<String, Object> out) {
        switch (key) {
            case "metrics_port": // the HTTP server's port: /metrics, /health, the API, HTTP ingest
                return wholeNumber(key, value, "port", 1, out);
            case "health_check_interval":
                return Outcome.ignored("/health is worked out from the live state at each request; there is no "
                        + "periodic check to schedule");
            default:
                return Outcome.unknownKey(unknown(key, Set.of("metrics_port", "health_check_interval")));
        }
    }

    /** The backend kind (factory PID suffix) of a document's {@code type:}. */
    static String kind(String type) {
        switch (type.toLowerCase(Locale.ROOT)) {
            case "filesystem": return "file";
            case "timescaledb":
            case "postgresql": return "postgres";
            default: return type;
        }
    }

    /**
     * Translates one backend setting of kind {@code kind} ({@code null} if the type is unknown or
     * missing: then only passed through) into {@code out}.
     *
     * @param override whether it is a rule's own {@code config:} (where {@code path} of a file
     *                 backend is one file, as in 001)
     * @return a problem, or {@code null}
     */
    static String backend(String kind, String key, Object value, boolean override, Map<String, Object> out) {
        if ("file".equals(kind)) {
            switch (key) {
                case "base_path": {
                    // the documents name absolute folders (/var/log/monitoring): a document key is the
                    // operator's explicit choice, so it allows a path outside the distribution folder
                    // (the file backend still logs where it writes)
                    String problem = text(key, value, "path", out);
                    if (problem == null && ((String) value).startsWith("/")) {
                        out.put("allow.absolute.path", true);
                    }
                    return problem;
                }
                case "rotate_daily":
                    if (!(value instanceof Boolean)) {
                        return "rotate_daily must be true or false, not '" + value + "'";
                    }
                    // daily files per source (the file backend's default), or one file per source
                    out.put("path.template", (Boolean) value ? "{source}/{date}.jsonl" : "{source}.jsonl");
                    return null;
                case "path":
                    if (!override) {
                        break; // a backend's own path: the folder, as in io.signalbox.backend.file
                    }
                    // 001: a rule's path is the one file its messages go to
                    if (!(value instanceof String) || ((String) value).isBlank() || ((String) value).endsWith("/")) {
                        return "path must be the file the rule's messages go to, e.g. /mnt/nas/logs/queue-service.jsonl";
                    }
                    String file = ((String) value).trim();
                    int slash = file.lastIndexOf('/');
                    out.put("path", slash < 0 ? "." : slash == 0 ? "/" : file.substring(0, slash));
                    out.put("path.template", file.substring(slash + 1));
                    if (file.startsWith("/")) {
                        out.put("allow.absolute.path", true); // as for base_path
                    }
                    return null;
                default:
                    break;
            }
        } else if ("postgres".equals(kind)) {
            switch (key) {
                case "connection_string": // a libpq URI or a JDBC URL; the backend takes both
                    return text(key, value, "url", out);
                case "table":
                    return text(key, value, "events.table", out);
                default:
                    break;
            }
        } else if ("cloudwatch".equals(kind)) {
            switch (key) {
                case "log_group":
                    return text(key, value, "log.group.template", out);
                case "log_stream": // "{source}" is the backend's own placeholder
                    return text(key, value, "log.stream.template", out);
                default:
                    break;
            }
        }
        passThrough(key, value, out);
        return null;
    }

    private static Outcome passThrough(String key, Object value, Map<String, Object> out) {
        out.put(key.replace('_', '.'), value);
        return Outcome.DONE;
    }

    private static String text(String key, Object value, String to, Map<String, Object> out) {
        if (!(value instanceof String) || ((String) value).isBlank()) {
            return key + " must be a text, not '" + value + "'";
        }
        out.put(to, value);
        return null;
    }

    private static Outcome wholeNumber(String key, Object value, String to, int min, Map<String, Object> out) {
        if (!(value instanceof Integer) || (Integer) value < min) {
            return Outcome.valueProblem(key + " must be a whole number >= " + min + ", not '" + value + "'");
        }
        out.put(to, value);
        return Outcome.DONE;
    }

    private static String unknown(String key, Set<String> known) {
        String reason = io.signalbox.api.ConfigKeys.unknownKeysReason(known, Map.of(key, ""));
        return reason != null ? reason : "unknown key '" + key + "'";
    }
}
