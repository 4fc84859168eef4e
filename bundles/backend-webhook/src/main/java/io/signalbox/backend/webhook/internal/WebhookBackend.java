package io.signalbox.backend.webhook.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;

/**
 * Sends each batch as an HTTP request whose body is a JSON array of the messages' lines:
 * {@code [line,line,...]}. The lines are JSON objects already ({@link Message#line()}), so they
 * are copied once into the body and never re-serialised. A batch whose body would exceed
 * {@code max.batch.bytes} is sent as several requests, in order.
 *
 * <p>2xx means delivered. A 4xx other than 408 (request timeout) and 429 (too many requests)
 * means the receiver refused the request as invalid, so sending it again cannot succeed: the
 * write throws {@link BatchRejectedException} ({@code HTTP <code>: <first 200 characters of the
 * body>}) and the routing channel dead-letters the batch. Any other status (5xx, 408, 429, 3xx),
 * a timeout or an I/O error throws an ordinary exception with the status and the start of the
 * body, and the channel retries the batch. If a split batch fails part-way and the channel
 * retries the same batch, the requests already acknowledged are not sent again. (Delivery is
 * at-least-once: a request that times out after the server processed it is sent again.)
 *
 * <p>Only the origin ({@code scheme://host:port}) of the URL is ever logged or put in an
 * exception; header values never are.
 */
public final class WebhookBackend implements BackendLifecycle.Instance<WebhookSettings> {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookBackend.class);
    private static final int ERROR_BODY_CHARS = 200;
    /** Bytes of an error response kept for the exception (200 characters of up to 4 bytes); the rest is read and dropped. */
    private static final int ERROR_BODY_KEEP = ERROR_BODY_CHARS * 4;

    private final String name;
    private final ExecutorService executor;
    private volatile Target target;
    private volatile boolean closed;

    private final ConcurrentHashMap<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder failures = new LongAdder();

    /** Guarded by {@code this}: a split batch that failed part-way, and the first message not yet acknowledged. */
    private Batch partial;
    private int partialFrom;

    /** The settings in force with the client built for them. */
    private record Target(WebhookSettings settings, HttpClient client, HttpRequest.Builder template) {
    }

    /** A backend for validated settings ({@link WebhookSettings#of}); it connects on the first write. */
    public WebhookBackend(String name, WebhookSettings settings) {
        this.name = name;
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "signalbox-webhook-" + name + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.executor = Executors.newCachedThreadPool(factory);
        this.target = newTarget(settings, null);
    }

    public String name() {
        return name;
    }

    WebhookSettings settings() {
        return target.settings();
    }

    /**
     * Applies new (validated) settings to the next request; a request in flight finishes with the
     * old ones. The HTTP client is rebuilt only if the connect timeout changed; the old one is
     * left to the garbage collector (closing it would wait for a request in flight).
     */
    @Override
    public void update(WebhookSettings settings) {
        Target old = target;
        target = newTarget(settings, old.settings().connectTimeout().equals(settings.connectTimeout()) ? old.client() : null);
    }

    private Target newTarget(WebhookSettings s, HttpClient reuse) {
        HttpClient client = reuse != null ? reuse
                : HttpClient.newBuilder()
                        .connectTimeout(s.connectTimeout())
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .version(HttpClient.Version.HTTP_1_1)
                        .executor(executor)
                        .build();
        HttpRequest.Builder template = HttpRequest.newBuilder(s.url())
                .timeout(s.requestTimeout())
                .header("Content-Type", "application/json");
        if (s.gzip()) {
            template.header("Content-Encoding", "gzip");
        }
        List<String> h = s.headers();
        for (int i = 0; i < h.size(); i += 2) {
            template.header(h.get(i), h.get(i + 1));
        }
        return new Target(s, client, template);
    }

    @Override
    public synchronized void write(Batch batch) throws Exception {
        if (closed) {
            throw new IllegalStateException("webhook backend \"" + name + "\" is closed");
        }
        List<Message> messages = batch.messages();
        int from = 0;
        if (partial == batch) {
            from = partialFrom;
            LOG.debug("webhook {}: retrying a split batch from message {} of {}", name, from, messages.size());
        }
        partial = null;
        Target t = target;
        int max = t.settings().maxBatchBytes();
        while (from < messages.size()) {
            int to = chunkEnd(messages, from, max);
            byte[] body = jsonArray(messages, from, to);
            try {
                send(t, body, to - from);
            } catch (BatchRejectedException e) {
                if (from > 0) {
                    // not retried: the whole batch goes to the dead-letter file, so say which part was delivered
                    throw new BatchRejectedException(e.getMessage() + " (messages 1-" + from + " of this batch of "
                            + messages.size() + " had been delivered before)", e);
                }
                throw e;
            } catch (Exception e) {
                if (from > 0) {
                    partial = batch;
                    partialFrom = from;
                }
                throw e;
            }
            from = to;
        }
    }

    /** The end (exclusive) of the longest run from {@code from} whose JSON array fits {@code maxBytes}; at least one message. */
    static int chunkEnd(List<Message> messages, int from, int maxBytes) {
        long size = 2 + messages.get(from).line().length;
        int end = from + 1;
        while (end < messages.size()) {
            long next = size + 1 + messages.get(end).line().length;
            if (next > maxBytes) {
                break;
            }
            size = next;
            end++;
        }
        return end;
    }

    /** {@code [line,line,...]} of messages {@code from} (inclusive) to {@code to} (exclusive), one copy of each line. */
    static byte[] jsonArray(List<Message> messages, int from, int to) {
        int size = 1 + (to - from);
        for (int i = from; i < to; i++) {
            size += messages.get(i).line().length;
        }
        byte[] body = new byte[size];
        int pos = 0;
        for (int i = from; i < to; i++) {
            body[pos++] = (byte) (i == from ? '[' : ',');
            byte[] line = messages.get(i).line();
            System.arraycopy(line, 0, body, pos, line.length);
            pos += line.length;
        }
        body[pos] = ']';
        return body;
    }

    static byte[] gzip(byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, body.length / 4));
        try (GZIPOutputStream gz = new FastGzip(out)) {
            gz.write(body);
        }
        return out.toByteArray();
    }

    /** Level 1: JSON lines compress well even so, and the sidecar's CPU is the scarce resource. */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(ByteArrayOutputStream out) throws IOException {
            super(out, 8192);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }

    private void send(Target t, byte[] json, int count) throws Exception {
        WebhookSettings s = t.settings();
        byte[] body = s.gzip() ? gzip(json) : json;
        HttpRequest request = t.template().copy()
                .method(s.method(), HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        long timeoutMillis = s.requestTimeout().toMillis();
        CompletableFuture<HttpResponse<byte[]>> future = t.client().sendAsync(request,
                info -> info.statusCode() / 100 == 2 ? BodySubscribers.replacing(null) : new HeadOfBody(ERROR_BODY_KEEP));
        HttpResponse<byte[]> response;
        try {
            response = future.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw failed("timeout", new HttpTimeoutException("webhook \"" + name + "\": no complete response from "
                    + s.origin() + " within " + timeoutMillis + " ms (request.timeout.ms)"));
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw e;
        } catch (CancellationException e) {
            throw failed("error", new IOException("webhook \"" + name + "\": request to " + s.origin() + " cancelled", e));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof HttpConnectTimeoutException) {
                throw failed("timeout", new HttpConnectTimeoutException("webhook \"" + name + "\": could not connect to "
                        + s.origin() + " within " + s.connectTimeout().toMillis() + " ms (connect.timeout.ms)"));
            }
            if (cause instanceof HttpTimeoutException) {
                throw failed("timeout", new HttpTimeoutException("webhook \"" + name + "\": no response from "
                        + s.origin() + " within " + timeoutMillis + " ms (request.timeout.ms)"));
            }
            IOException io = new IOException("webhook \"" + name + "\": request to " + s.origin() + " failed: " + cause, cause);
            throw failed("error", io);
        }
        int status = response.statusCode();
        bytesSent.add(body.length);
        count(Integer.toString(status));
        if (status / 100 != 2) {
            failures.increment();
            if (rejects(status)) {
                throw new BatchRejectedException("HTTP " + status + ": " + excerpt(response.body()));
            }
            throw new IOException("webhook \"" + name + "\": HTTP " + status + " from " + s.origin() + ": "
                    + excerpt(response.body()));
        }
        LOG.debug("webhook {}: {} messages, {} bytes, HTTP {}", name, count, body.length, status);
    }

    /** Whether a status means the receiver refused the request itself: 4xx except 408 and 429, which are worth retrying. */
    static boolean rejects(int status) {
        return status / 100 == 4 && status != 408 && status != 429;
    }

    /** Keeps the first {@code limit} bytes of a response body and drains the rest, so a huge error page costs no memory. */
    static final class HeadOfBody implements HttpResponse.BodySubscriber<byte[]> {
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream head;
        private final int limit;

        HeadOfBody(int limit) {
            this.limit = limit;
            this.head = new ByteArrayOutputStream(Math.min(limit, 1024));
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                int n = Math.min(b.remaining(), limit - head.size());
                if (n > 0) {
                    byte[] chunk = new byte[n];
                    b.get(chunk);
                    head.write(chunk, 0, n);
                }
            }
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(head.toByteArray());
        }
    }

    private Exception failed(String status, Exception e) {
        count(status);
        failures.increment();
        return e;
    }

    private void count(String status) {
        requests.computeIfAbsent(status, k -> new LongAdder()).increment();
    }

    /** The first 200 characters of a response body, on one line. */
    static String excerpt(byte[] body) {
        if (body == null || body.length == 0) {
            return "(empty body)";
        }
        String text = new String(body, 0, Math.min(body.length, ERROR_BODY_CHARS * 4), StandardCharsets.UTF_8);
        if (text.length() > ERROR_BODY_CHARS) {
            text = text.substring(0, ERROR_BODY_CHARS);
        }
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            sb.append(Character.isISOControl(c) ? ' ' : c);
        }
        return sb.toString().strip();
    }

    @Override
    public void collect(MetricsSink sink) {
        requests.forEach((status, n) -> sink.counter("signalbox_webhook_requests_total", n.sum(), "backend", name,
                "status", status));
        sink.counter("signalbox_webhook_bytes_sent_total", bytesSent.sum(), "backend", name);
        sink.counter("signalbox_webhook_failures_total", failures.sum(), "backend", name);
    }

    /** Stops the client's threads; writes after this throw. A request in flight is cancelled. */
    @Override
    public void close() {
        closed = true;
        closeClient(target.client());
        executor.shutdownNow();
    }

    /** {@code HttpClient} is {@code AutoCloseable} from Java 21 on: close it there, else its threads end once it is unreachable. */
    private void closeClient(HttpClient client) {
        if (client instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.debug("webhook {}: closing the HTTP client failed", name, e);
            }
        }
    }

    @Override
    public String toString() {
        return "WebhookBackend[" + name + " → " + target.settings().origin() + "]";
    }
}
