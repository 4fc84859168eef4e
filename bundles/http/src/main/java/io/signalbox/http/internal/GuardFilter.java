package io.signalbox.http.internal;

import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.LogLimiter;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.StatsSource;
import io.signalbox.protocol.AuthStats;
import io.signalbox.protocol.SharedSecrets;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Runs before every servlet of the HTTP server and refuses, with a JSON error, what a stranger or
 * a web page could use to read or write:
 * <ol>
 * <li>a {@code Host} that is not the configured address, a localhost form or one of
 * {@code allowed.hosts} (421: DNS rebinding lets a page reach 127.0.0.1 under its own name);</li>
 * <li>an {@code Origin} that is neither this server nor one of {@code cors.origins} (403: a page's
 * request); CORS headers are only sent for {@code cors.origins}, so CORS is off unless configured;</li>
 * <li>a write (POST, PUT, PATCH, DELETE; a form POST to the Prometheus API {@code /api/v1/...} is a
 * read) whose body is not {@code application/json} or
 * {@code application/x-ndjson} (415: forms, multipart and {@code text/plain} are what a browser sends
 * without a preflight);</li>
 * <li>a missing or wrong {@code Authorization: Bearer <secret>} when {@code auth.write.secret} (writes)
 * or {@code auth.read.secret} (reads, except {@code /health} and {@code /v1/health}) is set (401).</li>
 * </ol>
 * Refusals are counted ({@value #REFUSED}{@code {reason}}, and authentication failures in
 * {@code signalbox_auth_failures_total{transport="http"}}) and logged rate-limited with the client
 * address; secrets are never logged.
 */
final class GuardFilter implements Filter, StatsSource {
    static final String REFUSED = "signalbox_http_requests_refused_total";
    private static final Logger LOG = LoggerFactory.getLogger(GuardFilter.class);
    private static final String[] REASONS = { "host", "origin", "content_type" };

    private volatile GuardSettings settings;
    private final AuthStats auth = new AuthStats("http");
    private final LongAdder[] refused = { new LongAdder(), new LongAdder(), new LongAdder() };
    private final LogLimiter log = new LogLimiter();

    GuardFilter(GuardSettings settings) {
        this.settings = settings;
    }

    void settings(GuardSettings s) {
        this.settings = s;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse resp = (HttpServletResponse) response;
        GuardSettings s = settings;
        String host = req.getHeader("Host");
        if (!hostAllowed(s, host)) {
            refuse(req, resp, 0, 421, "Host " + printable(host) + " is not this server's address (allowed.hosts)");
            return;
        }
        String origin = req.getHeader("Origin");
        boolean cors = false;
        if (origin != null && !sameOrigin(origin, host)) {
            if (!s.corsOrigins().contains(origin.trim().toLowerCase(Locale.ROOT))) {
                refuse(req, resp, 1, 403, "requests from the web origin " + printable(origin)
                        + " are refused (cors.origins)");
                return;
            }
            cors = true;
            resp.setHeader("Access-Control-Allow-Origin", origin.trim());
            resp.setHeader("Vary", "Origin");
            if ("OPTIONS".equals(req.getMethod()) && req.getHeader("Access-Control-Request-Method") != null) {
                resp.setHeader("Access-Control-Allow-Methods", "GET, POST");
                resp.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type");
                resp.setHeader("Access-Control-Max-Age", "600");
                resp.setStatus(HttpServletResponse.SC_NO_CONTENT);
                return;
            }
        }
        // Prometheus' query API takes its parameters as a form POST too (promtool and Grafana send
        // them so): a read, answered only to the same origin, and it needs the read secret
        boolean write = isWrite(req.getMethod()) && !isPrometheusFormRead(req);
        if (write && !jsonBody(req.getContentType())) {
            refuse(req, resp, 2, 415, "a request body must be application/json or application/x-ndjson, is "
                    + printable(req.getContentType()));
            return;
        }
        SharedSecrets need = write ? s.writeSecrets() : isHealth(req) ? SharedSecrets.NONE : s.readSecrets();
        if (need.enabled()) {
            String header = req.getHeader("Authorization");
            String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                    ? header.substring(7).trim() : null;
            if (token == null || need.match(token) == null) {
                AuthStats.Reason reason = token == null ? AuthStats.Reason.NO_SECRET : AuthStats.Reason.BAD_SECRET;
                auth.record(reason, req.getRemoteAddr() + ":" + req.getRemotePort(),
                        req.getMethod() + " " + printable(req.getRequestURI()) + " needs "
                                + (write ? "auth.write.secret" : "auth.read.secret"));
                resp.setHeader("WWW-Authenticate", "Bearer realm=\"signalbox\"");
                ApiJson.sendError(resp, HttpServletResponse.SC_UNAUTHORIZED,
                        (write ? "writing" : "reading") + " needs Authorization: Bearer <secret>");
                return;
            }
        }
        chain.doFilter(request, response);
    }

    private void refuse(HttpServletRequest req, HttpServletResponse resp, int reason, int status, String message)
            throws IOException {
        refused[reason].increment();
        long suppressed = log.acquire();
        if (suppressed >= 0) {
            LOG.warn("Refused {} {} from {}: {} ({} more refusals suppressed)", req.getMethod(),
                    printable(req.getRequestURI()), req.getRemoteAddr(), message, suppressed);
        }
        ApiJson.sendError(resp, status, message);
    }

    static boolean isWrite(String method) {
        return !("GET".equals(method) || "HEAD".equals(method) || "OPTIONS".equals(method));
    }

    /** A form POST to the Prometheus HTTP API ({@code /api/v1/...}), which only reads. */
    static boolean isPrometheusFormRead(HttpServletRequest req) {
        return "POST".equals(req.getMethod()) && req.getRequestURI().startsWith("/api/v1/")
                && mediaType(req.getContentType()).equals("application/x-www-form-urlencoded");
    }

    private static boolean isHealth(HttpServletRequest req) {
        String path = req.getRequestURI();
        return "/health".equals(path) || "/v1/health".equals(path);
    }

    /** {@code application/json} or {@code application/x-ndjson}, parameters (charset) allowed. */
    static boolean jsonBody(String contentType) {
        String type = mediaType(contentType);
        return type.equals("application/json") || type.equals("application/x-ndjson");
    }

    /** The media type of a {@code Content-Type} header, lower case, without parameters ("" if none). */
    private static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    /** The host part of a {@code Host} header, lower case, without the port ({@code [::1]} keeps its brackets). */
    static String hostName(String hostHeader) {
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    static boolean hostAllowed(GuardSettings s, String hostHeader) {
        if (hostHeader == null) {
            return true; // HTTP/1.0 without Host: no browser sends that, so no rebinding through it
        }
        String name = hostName(hostHeader);
        if (name.equals("localhost") || name.equals("127.0.0.1") || name.equals("[::1]")
                || name.equals(s.host().toLowerCase(Locale.ROOT)) || name.equals("[" + s.host().toLowerCase(Locale.ROOT) + "]")
                || s.allowedHosts().contains(name)) {
            return true;
        }
        return s.wildcard() && s.allowedHosts().isEmpty();
    }

    /** Whether {@code origin} ({@code scheme://host[:port]}) names the server the request was sent to. */
    static boolean sameOrigin(String origin, String hostHeader) {
        if (hostHeader == null) {
            return false;
        }
        String o = origin.trim().toLowerCase(Locale.ROOT);
        int sep = o.indexOf("://");
        if (sep < 0) {
            return false; // "null" (sandboxed pages, file:) is foreign
        }
        String authority = o.substring(sep + 3);
        String h = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (authority.equals(h)) {
            return true;
        }
        // a default port may be left out on one side
        String scheme = o.substring(0, sep);
        String port = scheme.equals("https") ? ":443" : ":80";
        return (authority + port).equals(h) || authority.equals(h + port);
    }

    /** For messages and logs: at most 100 characters, control characters escaped. */
    static String printable(String s) {
        if (s == null) {
            return "(none)";
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 100; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append(s.length() > 100 ? "…\"" : "\"").toString();
    }

    @Override
    public void collect(MetricsSink sink) {
        for (int i = 0; i < REASONS.length; i++) {
            sink.counter(REFUSED, refused[i].sum(), "reason", REASONS[i]);
        }
        auth.collect(sink);
    }
}
