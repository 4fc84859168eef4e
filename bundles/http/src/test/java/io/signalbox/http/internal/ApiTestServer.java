package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import jakarta.servlet.http.HttpServlet;

/** A real Jetty 12 servlet container on 127.0.0.1 and a free port, serving the servlets under test. */
final class ApiTestServer implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    final HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /** @param servlets servlet → its URL patterns */
    ApiTestServer(Map<HttpServlet, String[]> servlets) throws Exception {
        this(servlets, null);
    }

    /** The same, with {@code filter} in front of every path (the whiteboard's {@code /*} filter). */
    ApiTestServer(Map<HttpServlet, String[]> servlets, jakarta.servlet.Filter filter) throws Exception {
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        for (Map.Entry<HttpServlet, String[]> e : servlets.entrySet()) {
            ServletHolder holder = new ServletHolder(e.getKey());
            for (String pattern : e.getValue()) {
                context.addServlet(holder, pattern);
            }
        }
        if (filter != null) {
            context.addFilter(new org.eclipse.jetty.ee10.servlet.FilterHolder(filter), "/*",
                    java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST));
        }
        server.setHandler(context);
        server.start();
    }

    static ApiTestServer of(HttpServlet servlet, String... patterns) throws Exception {
        Map<HttpServlet, String[]> m = new LinkedHashMap<>();
        m.put(servlet, patterns);
        return new ApiTestServer(m);
    }

    int port() {
        return connector.getLocalPort();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return post(path, body.getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<String> post(String path, byte[] body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        // a client per request, so a connection is never reused: the server closes one after an answer
        // that did not read the request body (405, 413, 503), and a pooled connection the client picks
        // up in that instant fails the next request with "header parser received no bytes"
        HttpClient fresh = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
        return fresh.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code method} to {@code path} and checks the answer: 405, {@code Allow: allow}, a JSON error. */
    void assertNotAllowed(String method, String path, String allow) throws IOException, InterruptedException {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri(path)).method(method,
                HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(r.statusCode()).as(method + " " + path).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).as(method + " " + path).hasValue(allow);
        assertThat(ApiTestJson.object(r.body())).as(method + " " + path).containsKey("error");
    }

    /**
     * Writes {@code head} (and then {@code body}) over a plain socket and returns everything the
     * server answers until it closes the connection or the answer is complete.
     */
    String raw(String head, byte[] body) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port())) {
            s.setSoTimeout((int) TIMEOUT.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                try {
                    out.write(body);
                } catch (IOException e) {
                    // the server may answer and close before reading all of it: the answer is what counts
                }
            }
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    answer.write(buf, 0, n);
                    String text = answer.toString(StandardCharsets.UTF_8);
                    int end = text.indexOf("\r\n\r\n");
                    if (end > 0 && text.endsWith("}")) {
                        break; // a complete JSON answer
                    }
                }
            } catch (IOException e) {
                // a reset after the answer: keep what was read
                if (answer.size() == 0) {
                    throw e;
                }
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** Polls every 10 ms until {@code condition} holds or {@code timeout} passed. */
    static boolean poll(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(10_000_000L);
        }
        return true;
    }
}
