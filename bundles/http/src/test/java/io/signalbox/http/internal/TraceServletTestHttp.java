package io.signalbox.http.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import jakarta.servlet.Servlet;

/**
 * For the trace and tail servlet tests: a real Jetty 12 servlet container on 127.0.0.1:0 with one
 * servlet mapped as the whiteboard would map it, an HTTP client, and a JSON reader.
 */
final class TraceServletTestHttp implements AutoCloseable {
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(Integer.MAX_VALUE).build())
            .build();

    private final Server server;
    private final int port;
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    TraceServletTestHttp(Servlet servlet, String... patterns) throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(InetAddress.getLoopbackAddress().getHostAddress());
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        ServletHolder holder = new ServletHolder(servlet);
        for (String p : patterns) {
            context.addServlet(holder, p);
        }
        server.setHandler(context);
        server.start();
        port = connector.getLocalPort();
    }

    int port() {
        return port;
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }

    HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).GET().build());
    }

    HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** A JSON document as maps (insertion ordered), lists, strings, longs, doubles, booleans and nulls. */
    @SuppressWarnings("unchecked")
    static Object parse(String json) throws IOException {
        try (JsonParser p = JSON.createParser(json)) {
            Deque<Object> stack = new ArrayDeque<>();
            Deque<String> names = new ArrayDeque<>();
            Object root = null;
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                Object value;
                switch (t) {
                    case FIELD_NAME:
                        names.push(p.currentName());
                        continue;
                    case START_OBJECT:
                        value = new LinkedHashMap<String, Object>();
                        break;
                    case START_ARRAY:
                        value = new ArrayList<Object>();
                        break;
                    case END_OBJECT:
                    case END_ARRAY:
                        value = stack.pop();
                        if (stack.isEmpty()) {
                            root = value;
                        }
                        continue;
                    case VALUE_STRING:
                        value = p.getText();
                        break;
                    case VALUE_NUMBER_INT:
                        value = p.getLongValue();
                        break;
                    case VALUE_NUMBER_FLOAT:
                        value = p.getDoubleValue();
                        break;
                    case VALUE_TRUE:
                        value = Boolean.TRUE;
                        break;
                    case VALUE_FALSE:
                        value = Boolean.FALSE;
                        break;
                    default:
                        value = null;
                }
                Object parent = stack.peek();
                if (parent instanceof Map) {
                    ((Map<String, Object>) parent).put(names.pop(), value);
                } else if (parent instanceof List) {
                    ((List<Object>) parent).add(value);
                } else {
                    root = value;
                }
                if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    stack.push(value);
                }
            }
            return root;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String json) throws IOException {
        return (Map<String, Object>) parse(json);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
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
