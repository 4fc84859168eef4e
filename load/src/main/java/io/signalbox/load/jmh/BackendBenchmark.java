package io.signalbox.load.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.osgi.util.converter.Converters;

import com.sun.net.httpserver.HttpServer;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/**
 * What the backend benchmarks share: {@code Backend.write} of batches of {@value #LINE_BYTES}-byte
 * event lines from {@value #SOURCES} sources, counted per second, with one fork and short
 * iterations (each backend's own target is in the same JVM).
 */
@Fork(1)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
public abstract class BackendBenchmark extends ThroughputBenchmark {
    static final int LINE_BYTES = 170;
    static final int BATCH = 100;
    static final int SOURCES = 4;

    /** Per-iteration counters, reported by JMH as rates (per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        /** Messages written. */
        public long messages;
        /** KiB as the target received them (file bytes, request bodies, uploaded objects), where measured. */
        public double kib;

        @Setup(Level.Iteration)
        public void reset() {
            messages = 0;
            kib = 0;
        }
    }

    private Batch[] batches;
    private int next;
    private final Deque<AutoCloseable> openForTrial = new ArrayDeque<>();

    /** Has {@code resource} closed at the end of the trial, before what was registered earlier; returns it. */
    final <T extends AutoCloseable> T closeAfterTrial(T resource) {
        openForTrial.push(resource);
        return resource;
    }

    /** Closes what the trial registered with {@link #closeAfterTrial}, the last registered first. */
    @TearDown(Level.Trial)
    public void closeTrialResources() throws Exception {
        while (!openForTrial.isEmpty()) {
            openForTrial.pop().close();
        }
    }

    /** Prepares {@code count} batches of {@code size} lines, sources taking turns. */
    final void prepare(int count, int size) {
        batches = new Batch[count];
        for (int b = 0; b < count; b++) {
            String source = "service-" + (b % SOURCES);
            List<Message> messages = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                messages.add(line(source, b * size + i));
            }
            batches[b] = new Batch(source, messages);
        }
    }

    /** The next prepared batch, round robin. */
    final Batch nextBatch() {
        Batch b = batches[next];
        next = (next + 1) % batches.length;
        return b;
    }

    /** The typed configuration {@code props} stand for, as Declarative Services passes it to a component. */
    static <C> C config(Class<C> type, Map<String, ?> props) {
        return Converters.standardConverter().convert(props).to(type);
    }

    /** An event line of exactly {@value #LINE_BYTES} bytes. */
    static Message line(String source, int i) {
        String head = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + (1_763_800_000_000L + i)
                + ",\"type\":\"event\",\"ctx\":{\"job_id\":\"job-" + (48_000 + i % 1000) + "\"},\"data\":{\"level\":\"info\",\"msg\":\"";
        String tail = "\"}}";
        StringBuilder msg = new StringBuilder("invoice ").append(i).append(" charged ");
        while (head.length() + msg.length() + tail.length() < LINE_BYTES) {
            msg.append('x');
        }
        byte[] bytes = (head + msg + tail).getBytes(StandardCharsets.UTF_8);
        if (bytes.length != LINE_BYTES) {
            throw new IllegalStateException("line of " + bytes.length + " bytes: " + new String(bytes, StandardCharsets.UTF_8));
        }
        return new Message(source, 1_763_800_000_000L + i, MessageType.EVENT, null, null, null, "info", null, bytes);
    }

    /**
     * An HTTP server on 127.0.0.1 in this JVM that reads each request body and answers
     * {@code status} with {@code body} (TCP_NODELAY on: the JDK server writes headers and body
     * separately, and each small response would otherwise wait ~40 ms for a delayed ACK).
     */
    static final class Receiver implements AutoCloseable {
        private final HttpServer server;
        private final ExecutorService threads = Executors.newFixedThreadPool(2);

        Receiver(int status, String contentType, byte[] body) throws IOException {
            System.setProperty("sun.net.httpserver.nodelay", "true");
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.setExecutor(threads);
            server.createContext("/", exchange -> {
                try (exchange; InputStream in = exchange.getRequestBody()) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                    if (contentType != null) {
                        exchange.getResponseHeaders().set("Content-Type", contentType);
                    }
                    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
                    exchange.getResponseBody().write(body);
                }
            });
            server.start();
        }

        /** {@code http://127.0.0.1:<port>}. */
        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
            threads.shutdownNow();
        }
    }
}
