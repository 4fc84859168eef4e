package io.signalbox.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code bin/signalbox status | trace <id> | traces | routes | tail}: asks the sidecar's HTTP API
 * (see {@link Endpoint}) and prints for a terminal. Exit codes: 0 done, 1 the sidecar could not
 * answer (not reachable, unknown trace, error), 2 bad usage.
 */
public final class Main {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final String USAGE_TEXT = String.join("\n",
            "usage: signalbox status [--json]               health, rates and backends",
            "       signalbox trace <id> [--json]           a trace as a tree of spans with their events",
            "       signalbox traces [--source S] [--since T] [--limit N] [--json]   recent traces",
            "       signalbox routes [--json]               the routing table in force",
            "       signalbox tail [--source S] [--type T]  messages as they are routed (Ctrl-C stops)",
            "       signalbox query 'EXPR' [--time T | --range 1h [--step 1m]] [--json]   PromQL on the metrics store",
            "       signalbox alerts [--json]                 alerting rules, pending/firing alerts, errors",
            "The HTTP API is read from etc/io.signalbox.http.cfg (default 127.0.0.1:17001);",
            "SIGNALBOX_HTTP=host:port overrides it.");

    /** How {@code status} waits between its two /metrics samples (a test passes one that does not). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    private final Http http;
    private final PrintStream out;
    private final OutputStream rawOut;
    private final PrintStream err;
    private final Glyphs glyphs;
    private final ZoneId zone;
    private final Sleeper sleeper;
    private final Path home;

    Main(Http http, Path home, OutputStream rawOut, Charset charset, PrintStream err, ZoneId zone, Sleeper sleeper) {
        this.http = http;
        this.home = home;
        this.rawOut = rawOut;
        this.out = new PrintStream(rawOut, true, charset);
        this.err = err;
        this.glyphs = Glyphs.of(charset);
        this.zone = zone;
        this.sleeper = sleeper;
    }

    public static void main(String[] args) {
        Charset charset = terminalCharset();
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, charset);
        int code;
        try {
            Path home = Path.of(System.getProperty("signalbox.cli.home", "."));
            Http http = new Http(Endpoint.resolve(System.getenv(), home));
            code = new Main(http, home, new FileOutputStream(FileDescriptor.out), charset, err, ZoneId.systemDefault(),
                    Thread::sleep).run(args);
        } catch (IllegalArgumentException e) {
            err.println("signalbox: " + e.getMessage());
            code = FAILED;
        }
        System.exit(code);
    }

    /** The charset the terminal (or the file stdout goes to) expects, as the JVM learnt it from the locale. */
    static Charset terminalCharset() {
        String enc = System.getProperty("stdout.encoding", System.getProperty("sun.stdout.encoding"));
        try {
            return enc != null ? Charset.forName(enc) : Charset.defaultCharset();
        } catch (IllegalArgumentException unknown) {
            return Charset.defaultCharset();
        }
    }

    int run(String[] args) {
        if (args.length == 0) {
            err.println(USAGE_TEXT);
            return USAGE;
        }
        String command = args[0];
        Options o;
        try {
            o = Options.parse(Arrays.copyOfRange(args, 1, args.length));
        } catch (IllegalArgumentException e) {
            err.println("signalbox " + command + ": " + e.getMessage());
            err.println(USAGE_TEXT);
            return USAGE;
        }
        try {
            switch (command) {
                case "status":
                    return o.expect(0, "json") ? status(o) : usage(command, o);
                case "trace":
                    return o.expect(1, "json") ? trace(o) : usage(command, o);
                case "traces":
                    return o.expect(0, "json", "source", "since", "limit") ? traces(o) : usage(command, o);
                case "routes":
                    return o.expect(0, "json") ? routes(o) : usage(command, o);
                case "tail":
                    return o.expect(0, "source", "type") ? tail(o) : usage(command, o);
                case "query":
                    return o.expect(1, "json", "time", "range", "step") ? promQuery(o) : usage(command, o);
                case "alerts":
                    return o.expect(0, "json") ? alerts(o) : usage(command, o);
                case "help":
                case "-h":
                case "--help":
                    out.println(USAGE_TEXT);
                    return OK;
                default:
                    err.println("signalbox: unknown command '" + command + "'");
                    err.println(USAGE_TEXT);
                    return USAGE;
            }
        } catch (ConnectException | SocketTimeoutException e) {
            err.println("signalbox " + command + ": cannot reach the HTTP API at " + http.base() + " (" + e.getMessage()
                    + "); is Signalbox running (bin/signalbox start)? SIGNALBOX_HTTP=host:port picks another address.");
            return FAILED;
        } catch (IOException e) {
            err.println("signalbox " + command + ": " + http.base() + ": " + e);
            return FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FAILED;
        }
    }

    private int usage(String command, Options o) {
        err.println("signalbox " + command + ": " + o.problem);
        err.println(USAGE_TEXT);
        return USAGE;
    }

    // ---------------------------------------------------------------- commands

    private int status(Options o) throws IOException, InterruptedException {
        Http.Response health = http.get("/health");
        if (health.status() != 200 && health.status() != 503) {
            return failed("status", health);
        }
        if (o.flags.containsKey("json")) {
            out.println(new String(health.body(), StandardCharsets.UTF_8));
            return OK;
        }
        StatusView.Rates rates = null;
        Map<String, Object> sources = null;
        Http.Response first = http.get("/metrics");
        long t0 = System.nanoTime(); // the interval between the two answers, not the first request's latency
        if (first.status() == 200) {
            sleeper.sleep(1000);
            long t1 = System.nanoTime();
            Http.Response second = http.get("/metrics");
            if (second.status() == 200) {
                rates = new StatusView.Rates(new MetricsSample(text(first)), new MetricsSample(text(second)),
                        Math.max(1e-3, (t1 - t0) / 1e9));
            }
        }
        if (rates == null) {
            Http.Response s = http.get("/api/sources");
            if (s.status() == 200) {
                sources = Json.map(Json.parse(s.body()));
            }
        }
        print(StatusView.render(Json.map(Json.parse(health.body())), http.base().toString(), rates, sources));
        return OK;
    }

    /**
     * PromQL against the metrics store's Prometheus API: instant at {@code --time} (Unix seconds or
     * RFC 3339; default now), or over the last {@code --range} (e.g. {@code 1h}) every {@code --step}
     * (default: the range / 60, at least 1 s).
     */
    private int promQuery(Options o) throws IOException {
        String expr = URLEncoder.encode(o.positional.get(0), StandardCharsets.UTF_8);
        String path;
        String range = o.flags.get("range");
        if (range != null) {
            long rangeS = durationSeconds(range, "--range");
            String stepFlag = o.flags.get("step");
            long stepS = stepFlag == null ? Math.max(1, rangeS / 60) : durationSeconds(stepFlag, "--step");
            long end = System.currentTimeMillis() / 1000;
            path = "/api/v1/query_range?query=" + expr + "&start=" + (end - rangeS) + "&end=" + end + "&step=" + stepS;
        } else {
            if (o.flags.containsKey("step")) {
                err.println("signalbox query: --step needs --range");
                return USAGE;
            }
            String t = o.flags.get("time");
            path = "/api/v1/query?query=" + expr + (t == null ? "" : "&time=" + URLEncoder.encode(t, StandardCharsets.UTF_8));
        }
        Http.Response r = http.get(path);
        if (r.status() != 200) {
            String msg = text(r);
            try {
                Map<String, Object> e = Json.map(Json.parse(r.body()));
                if (e.get("error") != null) {
                    msg = Json.string(e, "errorType") + ": " + Json.string(e, "error");
                }
            } catch (IOException | RuntimeException notJson) {
                // keep the raw text
            }
            err.println("signalbox query: " + r.status() + " " + msg);
            return FAILED;
        }
        if (o.flags.containsKey("json")) {
            out.println(text(r));
            return OK;
        }
        print(QueryView.render(Json.map(Json.parse(r.body())), zone));
        return OK;
    }

    /** The alerting rules and their alerts ({@code GET /api/v1/rules}); {@code --json}: that answer as is. */
    private int alerts(Options o) throws IOException {
        Http.Response r = http.get("/api/v1/rules");
        if (r.status() != 200) {
            err.println("signalbox alerts: " + r.status() + " " + text(r)
                    + (r.status() == 404 ? " (is the alerting bundle running?)" : ""));
            return FAILED;
        }
        if (o.flags.containsKey("json")) {
            out.println(text(r));
            return OK;
        }
        print(AlertsView.render(Json.map(Json.parse(r.body()))));
        return OK;
    }

    /** {@code 90}, {@code 90s}, {@code 5m}, {@code 1h30m}, {@code 2d} → seconds. */
    static long durationSeconds(String text, String what) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([smhdw]?)").matcher(text);
        long total = 0;
        int at = 0;
        while (at < text.length() && m.find(at) && m.start() == at) {
            long n = Long.parseLong(m.group(1));
            total += n * switch (m.group(2)) {
                case "m" -> 60L;
                case "h" -> 3600L;
                case "d" -> 86_400L;
                case "w" -> 604_800L;
                default -> 1L;
            };
            at = m.end();
        }
        if (at != text.length() || total <= 0) {
            throw new IllegalArgumentException(what + " " + text + " is not a duration like 90s, 5m, 1h30m, 2d");
        }
        return total;
    }

    private int trace(Options o) throws IOException {
        String id = o.positional.get(0);
        return show("trace", "/api/traces/" + encodePath(id), o, new TraceView(glyphs, zone)::render);
    }

    private int traces(Options o) throws IOException {
        return show("traces", query("/api/traces", o, "source", "since", "limit"), o,
                doc -> ListViews.traces(doc, zone));
    }

    private int routes(Options o) throws IOException {
        return show("routes", "/api/routes", o, doc -> ListViews.routes(doc, home));
    }

    /** GETs {@code path} and prints the answer: as it is with {@code --json}, else through {@code view}. */
    private int show(String command, String path, Options o, Function<Map<String, Object>, List<String>> view)
            throws IOException {
        Http.Response r = http.get(path);
        if (r.status() != 200) {
            return failed(command, r);
        }
        if (o.flags.containsKey("json")) {
            out.println(text(r));
            return OK;
        }
        print(view.apply(Json.map(Json.parse(r.body()))));
        return OK;
    }

    /** {@code path} with the options among {@code keys} that were given as its query. */
    private static String query(String path, Options o, String... keys) {
        StringBuilder q = new StringBuilder(path);
        char sep = '?';
        for (String key : keys) {
            String v = o.flags.get(key);
            if (v != null) {
                q.append(sep).append(key).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
                sep = '&';
            }
        }
        return q.toString();
    }

    /**
     * Streams {@code /api/tail} to stdout byte for byte, one line per message; the server's
     * keepalive (empty) lines are skipped and its drop reports go to stderr.
     */
    private int tail(Options o) throws IOException {
        HttpURLConnection c = http.stream(query("/api/tail", o, "source", "type"), 30_000);
        try {
            int status = c.getResponseCode();
            if (status != 200) {
                InputStream e = c.getErrorStream();
                return failed("tail", new Http.Response(status, e == null ? new byte[0] : e.readAllBytes()));
            }
            err.println("signalbox tail: streaming what is routed from " + http.base() + " (source="
                    + o.flags.getOrDefault("source", "*") + ", type=" + o.flags.getOrDefault("type", "*")
                    + "); messages show when their batch is flushed; Ctrl-C stops");
            try (InputStream in = c.getInputStream()) {
                copyLines(in);
            } catch (SocketTimeoutException e) {
                err.println("signalbox tail: nothing from the sidecar for 30 s (not even its keepalive); giving up");
                return FAILED;
            }
            err.println("signalbox tail: the sidecar ended the stream");
            return FAILED;
        } finally {
            c.disconnect();
        }
    }

    private static final byte[] DROPPED = "{\"signalbox_tail_dropped\":".getBytes(StandardCharsets.US_ASCII);

    private void copyLines(InputStream in) throws IOException {
        byte[] buf = new byte[65_536];
        byte[] line = new byte[1024];
        int len = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                if (b != '\n') {
                    if (len == line.length) {
                        line = Arrays.copyOf(line, len * 2);
                    }
                    line[len++] = b;
                    continue;
                }
                if (len > 0 && line[len - 1] == '\r') {
                    len--;
                }
                if (len > 0) {
                    if (startsWith(line, len, DROPPED)) {
                        err.println("signalbox tail: " + dropped(line, len)
                                + " lines dropped so far (this terminal reads slower than the sidecar routes)");
                    } else {
                        rawOut.write(line, 0, len);
                        rawOut.write('\n');
                    }
                }
                len = 0;
            }
            rawOut.flush();
        }
    }

    private static boolean startsWith(byte[] line, int len, byte[] prefix) {
        if (len < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (line[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String dropped(byte[] line, int len) {
        try {
            return Format.count(Json.number(Json.map(Json.parse(Arrays.copyOf(line, len))), "signalbox_tail_dropped"));
        } catch (IOException e) {
            return "some";
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Prints the server's error ({@code {"error":…}}) and returns {@link #FAILED}. */
    private int failed(String command, Http.Response r) {
        String message;
        try {
            message = Json.string(Json.map(Json.parse(r.body())), "error");
        } catch (IOException notJson) {
            message = null;
        }
        if (message == null) {
            message = new String(r.body(), StandardCharsets.UTF_8).strip();
        }
        err.println("signalbox " + command + ": HTTP " + r.status() + (message.isEmpty() ? "" : ": " + message));
        return FAILED;
    }

    private void print(List<String> lines) {
        for (String l : lines) {
            out.println(l);
        }
        out.flush();
    }

    private static String text(Http.Response r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    /** A trace id as one path segment. */
    static String encodePath(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** {@code --name value} options, {@code --flag} flags and positional arguments. */
    static final class Options {
        private static final List<String> VALUED = List.of("source", "type", "since", "limit", "time", "range", "step");
        final Map<String, String> flags = new LinkedHashMap<>();
        final List<String> positional = new ArrayList<>();
        String problem;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.startsWith("--") && a.length() > 2) {
                    String name = a.substring(2);
                    String value = null;
                    int eq = name.indexOf('=');
                    if (eq >= 0) {
                        value = name.substring(eq + 1);
                        name = name.substring(0, eq);
                    } else if (VALUED.contains(name)) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException("--" + name + " needs a value");
                        }
                        value = args[++i];
                    }
                    o.flags.put(name, value);
                } else {
                    o.positional.add(a);
                }
            }
            return o;
        }

        /** Whether there are exactly {@code positionals} arguments and only the {@code allowed} options. */
        boolean expect(int positionals, String... allowed) {
            List<String> ok = List.of(allowed);
            for (String f : flags.keySet()) {
                if (!ok.contains(f)) {
                    problem = "unknown option --" + f;
                    return false;
                }
            }
            if (positional.size() != positionals) {
                problem = positionals == 0 ? "unexpected argument " + positional.get(0)
                        : "needs " + positionals + " argument" + (positionals == 1 ? "" : "s") + ", got " + positional.size();
                return false;
            }
            return true;
        }
    }
}
