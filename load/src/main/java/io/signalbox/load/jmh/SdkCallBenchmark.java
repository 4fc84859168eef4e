package io.signalbox.load.jmh;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.sdk.Monitoring;
import io.signalbox.sdk.Span;

/**
 * Per-call overhead of the Java SDK on the caller's thread ({@code Mode.SampleTime}: JMH prints
 * p50/p90/p99/p99.9 per call), with the sidecar absent (nothing listens: the SDK reconnects in
 * the background, the ring fills and later calls are counted drops) and present (an in-process
 * server on 127.0.0.1 reads and discards everything, so the writer thread really writes).
 * Everything a call does is measured: formatting the line, the ring append, waking the writer.
 * {@code pauseNanos} spins between calls outside the measured time, as an application does its
 * own work between two log calls.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar SdkCallBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
public class SdkCallBenchmark {
    private static final Logger LOG = LoggerFactory.getLogger(SdkCallBenchmark.class);

    @Param({"absent", "present"})
    public String sidecar;

    /**
     * Time the caller spends elsewhere between two calls (not measured): 0 is back to back, the
     * writer cannot keep up and most calls end in a counted drop; 2000 ns is an application
     * logging at most ~500k messages/s from this thread.
     */
    @Param({"0", "2000"})
    public long pauseNanos;

    private Drain drain;
    private Monitoring monitoring;
    private final Map<String, Object> ctx = Map.of("file", "orders-2026-11-23.csv", "rows", 1842);
    private final Map<String, Object> tags = Map.of("queue", "mail");

    @Setup(Level.Trial)
    public void setup() throws IOException {
        int port;
        if (sidecar.equals("present")) {
            drain = new Drain();
            port = drain.port();
        } else {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
        }
        monitoring = Monitoring.builder().source("bench").host("127.0.0.1").port(port)
                .closeTimeout(Duration.ofSeconds(2)).closeOnShutdown(false).build();
        monitoring.setContext("job_id", "job-48213");
    }

    /** The caller's own work between calls: outside the measured time. */
    @Setup(Level.Invocation)
    public void pause() {
        if (pauseNanos > 0) {
            long until = System.nanoTime() + pauseNanos;
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        monitoring.close();
        LOG.info("sidecar {}, pause {} ns: sent {}, dropped {}, bytes read by the drain {}", sidecar, pauseNanos, monitoring.sent(),
                monitoring.dropped(), drain == null ? 0 : drain.bytes.get());
        if (drain != null) {
            drain.close();
        }
    }

    @Benchmark
    public void logEvent() {
        monitoring.logEvent("info", "invoice 99120 charged ok");
    }

    @Benchmark
    public void logEventWithCtx() {
        monitoring.logEvent("info", "file loaded", ctx);
    }

    @Benchmark
    public void logMetric() {
        monitoring.logMetric("queue.depth", 42.5, "items", tags);
    }

    /** Two calls (start and end), one message. */
    @Benchmark
    public void spanScope() {
        try (Span span = monitoring.startSpan("render invoice")) {
            span.attr("pages", 3);
        }
    }

    /** A stand-in sidecar: accepts on 127.0.0.1 and reads everything, discarding it. */
    static final class Drain implements AutoCloseable {
        final AtomicLong bytes = new AtomicLong();
        private final ServerSocketChannel server;
        private final Thread thread;

        Drain() throws IOException {
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = new Thread(this::run, "sdk-bench-drain");
            thread.setDaemon(true);
            thread.start();
        }

        int port() throws IOException {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        }

        private void run() {
            ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    int n;
                    while ((n = c.read(buf.clear())) >= 0) {
                        bytes.addAndGet(n);
                    }
                } catch (IOException e) {
                    if (server.isOpen()) {
                        LOG.warn("drain connection failed", e);
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
