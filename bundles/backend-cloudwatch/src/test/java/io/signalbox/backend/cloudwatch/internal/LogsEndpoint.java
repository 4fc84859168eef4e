package io.signalbox.backend.cloudwatch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An in-test CloudWatch Logs endpoint on 127.0.0.1 that speaks the {@code Logs_20140328} JSON 1.1
 * protocol ({@code X-Amz-Target}, {@code application/x-amz-json-1.1}) for CreateLogGroup,
 * CreateLogStream and PutLogEvents, with the service's validation rules: 1..10,000 events and at
 * most 1,048,576 bytes (UTF-8 message bytes + 26 per event) per call, events in chronological
 * order spanning at most 24 h, events of at most 256 KiB, ResourceNotFoundException for a
 * missing group or stream, ResourceAlreadyExistsException, and too-old (over 14 days) /
 * too-new (over 2 h ahead) / expired (older than the group's retention) events reported in
 * {@code rejectedLogEventsInfo} and not stored. Stores the accepted events per stream.
 */
final class LogsEndpoint implements AfterEachCallback, AutoCloseable {
    static final long DAY = 24L * 3600 * 1000;
    static final int MAX_EVENTS = 10_000;
    static final int MAX_BYTES = 1_048_576;
    static final int MAX_EVENT_BYTES = 262_144;

    record Event(long timestamp, String message) {
    }

    /** An error answer injected in place of PutLogEvents' normal one. */
    record Answer(int status, String type, String message) {
        static final Answer INVALID = new Answer(400, "InvalidParameterException",
                "Log events in a single PutLogEvents request must be in chronological order.");
    }

    /** One PutLogEvents call as received. */
    record Call(String group, String stream, int events, long bytes, long firstTs, long lastTs) {
    }

    private final ObjectMapper json = new ObjectMapper();
    private final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(16);
    /** group → retention days (0 = never expire) */
    final Map<String, Integer> groups = new ConcurrentHashMap<>();
    /** group\0stream → events */
    final Map<String, List<Event>> streams = new ConcurrentHashMap<>();
    final List<Call> calls = new CopyOnWriteArrayList<>();
    final List<String> targets = new CopyOnWriteArrayList<>();
    final List<String> errors = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> inFlightPerStream = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final AtomicInteger maxInFlightPerStream = new AtomicInteger();
    /** PutLogEvents calls to answer with HTTP 500 ServiceUnavailableException: call numbers (1-based). */
    final List<Integer> failCalls = new CopyOnWriteArrayList<>();
    /** PutLogEvents calls to answer with an injected error: call number (1-based) → answer. */
    final Map<Integer, Answer> answerCalls = new ConcurrentHashMap<>();
    /** PutLogEvents calls to a stream (by name) to answer with an injected error, until removed. */
    final Map<String, Answer> answerStreams = new ConcurrentHashMap<>();
    private final AtomicInteger putCount = new AtomicInteger();
    /** If > 1: each PutLogEvents waits (up to 5 s) until this many are in flight at once. */
    volatile int gather;
    private final Object gate = new Object();

    /** Listens at once; closed after the test: {@code @RegisterExtension final LogsEndpoint endpoint = new LogsEndpoint();}. */
    LogsEndpoint() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1", e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(pool);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    void createGroup(String group, int retentionDays) {
        groups.put(group, retentionDays);
    }

    /** Creates the stream if it does not exist yet; whether it did so. */
    boolean createStream(String group, String stream) {
        return streams.putIfAbsent(key(group, stream), Collections.synchronizedList(new ArrayList<>())) == null;
    }

    private static String key(String group, String stream) {
        return group + '\u0000' + stream;
    }

    List<Event> events(String group, String stream) {
        List<Event> e = streams.get(key(group, stream));
        if (e == null) {
            return List.of();
        }
        synchronized (e) {
            return List.copyOf(e);
        }
    }

    long count(String target) {
        return targets.stream().filter(target::equals).count();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
            String type = ex.getRequestHeaders().getFirst("Content-Type");
            if (!"POST".equals(ex.getRequestMethod()) || target == null || !target.startsWith("Logs_20140328.")
                    || type == null || !type.startsWith("application/x-amz-json-1.1")
                    || ex.getRequestHeaders().getFirst("Authorization") == null) {
                error(ex, 400, "UnrecognizedClientException", "not a signed Logs_20140328 JSON 1.1 request");
                return;
            }
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            JsonNode req = json.readTree(body);
            String group = req.path("logGroupName").asText();
            String stream = req.path("logStreamName").asText();
            String op = target.substring("Logs_20140328.".length());
            targets.add(op);
            switch (op) {
                case "CreateLogGroup" -> created(ex, groups.putIfAbsent(group, 0) == null, "log group");
                case "CreateLogStream" -> createLogStream(ex, group, stream);
                case "PutLogEvents" -> putLogEvents(ex, group, stream, req.path("logEvents"));
                default -> error(ex, 400, "InvalidOperationException", "unsupported operation " + op);
            }
        } catch (RuntimeException e) {
            errors.add(e.toString());
            throw e;
        }
    }

    private void createLogStream(HttpExchange ex, String group, String stream) throws IOException {
        if (!groups.containsKey(group)) {
            notFound(ex, "log group");
        } else {
            created(ex, createStream(group, stream), "log stream");
        }
    }

    /** The answer to CreateLogGroup/CreateLogStream: empty, or ResourceAlreadyExistsException. */
    private void created(HttpExchange ex, boolean created, String what) throws IOException {
        if (created) {
            ok(ex, Map.of());
        } else {
            error(ex, 400, "ResourceAlreadyExistsException", "The specified " + what + " already exists");
        }
    }

    private void notFound(HttpExchange ex, String what) throws IOException {
        error(ex, 400, "ResourceNotFoundException", "The specified " + what + " does not exist.");
    }

    private void putLogEvents(HttpExchange ex, String group, String stream, JsonNode events) throws IOException {
        String key = key(group, stream);
        AtomicInteger perStream = inFlightPerStream.computeIfAbsent(key, k -> new AtomicInteger());
        int mine = perStream.incrementAndGet();
        maxInFlightPerStream.accumulateAndGet(mine, Math::max);
        int all = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(all, Math::max);
        try {
            gather(all);
            int n = putCount.incrementAndGet();
            if (failCalls.contains(n)) {
                error(ex, 500, "ServiceUnavailableException", "injected failure of call " + n);
                return;
            }
            Answer answer = answerCalls.containsKey(n) ? answerCalls.get(n) : answerStreams.get(stream);
            if (answer != null) {
                error(ex, answer.status(), answer.type(), answer.message());
                return;
            }
            if (!groups.containsKey(group)) {
                notFound(ex, "log group");
                return;
            }
            List<Event> store = streams.get(key);
            if (store == null) {
                notFound(ex, "log stream");
                return;
            }
            if (!events.isArray() || events.size() < 1 || events.size() > MAX_EVENTS) {
                error(ex, 400, "InvalidParameterException", "logEvents must have 1.." + MAX_EVENTS + " entries, has " + events.size());
                return;
            }
            List<Event> in = new ArrayList<>(events.size());
            long bytes = 0;
            for (JsonNode e : events) {
                Event ev = new Event(e.path("timestamp").asLong(), e.path("message").asText());
                long size = ev.message().getBytes(StandardCharsets.UTF_8).length + 26L;
                if (ev.message().isEmpty() || size > MAX_EVENT_BYTES) {
                    error(ex, 400, "InvalidParameterException", "Log event too large or empty: " + size);
                    return;
                }
                bytes += size;
                in.add(ev);
            }
            if (bytes > MAX_BYTES) {
                error(ex, 400, "InvalidParameterException", "Upload too large: " + bytes + " bytes exceeds limit of " + MAX_BYTES);
                return;
            }
            for (int i = 1; i < in.size(); i++) {
                if (in.get(i).timestamp() < in.get(i - 1).timestamp()) {
                    error(ex, 400, "InvalidParameterException",
                            "Log events in a single PutLogEvents request must be in chronological order.");
                    return;
                }
            }
            long first = in.get(0).timestamp();
            long last = in.get(in.size() - 1).timestamp();
            if (last - first > DAY) {
                error(ex, 400, "InvalidParameterException",
                        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
                return;
            }
            calls.add(new Call(group, stream, in.size(), bytes, first, last));
            long now = System.currentTimeMillis();
            int retention = groups.get(group);
            int expiredEnd = 0;
            int tooOldEnd = 0;
            int tooNewStart = in.size();
            for (int i = 0; i < in.size(); i++) {
                long ts = in.get(i).timestamp();
                if (retention > 0 && ts < now - retention * DAY) {
                    expiredEnd = i + 1;
                }
                if (ts < now - 14 * DAY) {
                    tooOldEnd = i + 1;
                }
                if (ts > now + 2 * 3600_000L && tooNewStart == in.size()) {
                    tooNewStart = i;
                }
            }
            int from = Math.max(expiredEnd, tooOldEnd);
            for (int i = from; i < tooNewStart; i++) {
                store.add(in.get(i));
            }
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("nextSequenceToken", Integer.toString(n));
            if (expiredEnd > 0 || tooOldEnd > 0 || tooNewStart < in.size()) {
                Map<String, Object> info = new LinkedHashMap<>();
                if (expiredEnd > 0) {
                    info.put("expiredLogEventEndIndex", expiredEnd);
                }
                if (tooOldEnd > 0) {
                    info.put("tooOldLogEventEndIndex", tooOldEnd);
                }
                if (tooNewStart < in.size()) {
                    info.put("tooNewLogEventStartIndex", tooNewStart);
                }
                response.put("rejectedLogEventsInfo", info);
            }
            ok(ex, response);
        } finally {
            perStream.decrementAndGet();
            inFlight.decrementAndGet();
            synchronized (gate) {
                gate.notifyAll();
            }
        }
    }

    /** Holds the call until {@link #gather} calls are in flight at once, or 5 s have passed. */
    private void gather(int current) {
        int want = gather;
        if (want <= 1) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        synchronized (gate) {
            gate.notifyAll();
            while (maxInFlight.get() < want && System.nanoTime() < deadline) {
                try {
                    gate.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void ok(HttpExchange ex, Map<String, Object> body) throws IOException {
        send(ex, 200, json.writeValueAsBytes(body), null);
    }

    private void error(HttpExchange ex, int status, String type, String message) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("__type", type);
        body.put("message", message);
        send(ex, status, json.writeValueAsBytes(body), type);
    }

    private static void send(HttpExchange ex, int status, byte[] body, String errorType) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        ex.getResponseHeaders().set("x-amzn-RequestId", java.util.UUID.randomUUID().toString());
        if (errorType != null) {
            ex.getResponseHeaders().set("x-amzn-ErrorType", errorType);
        }
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
