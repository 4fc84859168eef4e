package io.signalbox.backend.webhook.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import com.sun.net.httpserver.HttpServer;

/** A webhook receiver on 127.0.0.1, free port: records every request and answers with a chosen status. */
final class TestServer implements AfterEachCallback, AutoCloseable {
    /** One received request; {@code body} is decompressed if it was sent with gzip. */
    record Request(String method, String path, Map<String, List<String>> headers, byte[] rawBody, byte[] body) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    /** Released on close: a handler told to hang waits for it. */
    private final CountDownLatch release = new CountDownLatch(1);
    volatile int status = 200;
    /** Statuses for the next requests, in order, before {@link #status} applies again. */
    final ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
    volatile String responseBody = "";
    volatile boolean hang;

    /** Listens at once; closed after the test: {@code @RegisterExtension final TestServer server = new TestServer();}. */
    TestServer() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1", e);
        }
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (exchange) {
                byte[] raw;
                try (InputStream in = exchange.getRequestBody()) {
                    raw = in.readAllBytes();
                }
                byte[] body = raw;
                if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                        body = in.readAllBytes();
                    }
                }
                requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                        Map.copyOf(exchange.getRequestHeaders()), raw, body));
                if (hang) {
                    release.await(30, TimeUnit.SECONDS);
                }
                byte[] answer = responseBody.getBytes(StandardCharsets.UTF_8);
                Integer next = statuses.poll();
                exchange.sendResponseHeaders(next != null ? next : status, answer.length == 0 ? -1 : answer.length);
                if (answer.length > 0) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(answer);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** The next request received, waiting up to 5 s; {@code null} if none came. */
    Request next() throws InterruptedException {
        return requests.poll(5, TimeUnit.SECONDS);
    }

    /** A request already received, or {@code null}. */
    Request poll() {
        return requests.poll();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
