package io.signalbox.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import io.signalbox.api.MetricSamples;
import io.signalbox.api.StatsSource;

/**
 * What the live-operation tests share: the pipeline's transport and correlation configuration
 * (set once per framework, reused by every test class), configurations created by a test and
 * deleted after it, TCP sending, reading the file backend's output, stats, polling.
 */
final class Sidecar {
    static final Duration DEADLINE = Duration.ofSeconds(30);
    static final String TRANSPORT_PID = "io.signalbox.transport.tcp";
    static final String CORRELATION_PID = "io.signalbox.correlation";
    static final String ROUTING_PID = "io.signalbox.routing";

    private final BundleContext context;
    private final ConfigurationAdmin configAdmin;
    private final List<Configuration> created = new ArrayList<>();
    private final int port;

    /** Configures transport and correlation if no test class did yet, and waits for the port. */
    Sidecar(BundleContext context, ConfigurationAdmin configAdmin) throws IOException, InterruptedException {
        this.context = context;
        this.configAdmin = configAdmin;
        port = configureOnce(configAdmin);
        waitUntil("TCP transport listening on " + port, this::portOpen);
    }

    /**
     * Transport on a free port, small fast batches, the routing spool in a temp folder (not
     * data/ under the working directory, where it would survive into the next run). Done by
     * the first test class that runs; the others reuse it.
     *
     * @return the TCP port
     */
    static synchronized int configureOnce(ConfigurationAdmin configAdmin) throws IOException {
        Configuration transport = configAdmin.getConfiguration(TRANSPORT_PID, "?");
        Dictionary<String, Object> props = transport.getProperties();
        if (props != null && props.get("port") instanceof Number n) {
            return n.intValue();
        }
        int port = freePort();
        update(configAdmin.getConfiguration(ROUTING_PID, "?"),
                Map.of("spool.dir", Files.createTempDirectory("signalbox-spool").toString()));
        update(transport, Map.of("host", "127.0.0.1", "port", port, "max.line.length", 65536));
        // small batches and a short age so the tests see data quickly
        update(configAdmin.getConfiguration(CORRELATION_PID, "?"), Map.of("batch.size", 50, "flush.interval.ms", 200));
        return port;
    }

    int port() {
        return port;
    }

    ConfigurationAdmin configAdmin() {
        return configAdmin;
    }

    /** A file backend instance writing under {@code path}; deleted by {@link #deleteCreated()}. */
    Configuration fileBackend(String name, Path path) throws IOException {
        return factory("io.signalbox.backend.file", name, Map.of("path", path.toString(), "fsync", "never"));
    }

    /** A route; deleted by {@link #deleteCreated()}. */
    Configuration route(String name, Map<String, ?> props) throws IOException {
        return factory("io.signalbox.route", name, props);
    }

    Configuration factory(String factoryPid, String name, Map<String, ?> props) throws IOException {
        Configuration c = configAdmin.getFactoryConfiguration(factoryPid, name, "?");
        created.add(c);
        update(c, props);
        return c;
    }

    void deleteCreated() throws IOException {
        for (Configuration c : created) {
            try {
                c.delete();
            } catch (IllegalStateException alreadyDeleted) {
                // the test deleted it itself
            }
        }
        created.clear();
    }

    static void update(Configuration c, Map<String, ?> props) throws IOException {
        Dictionary<String, Object> d = new Hashtable<>();
        props.forEach(d::put);
        c.update(d);
    }

    /**
     * Series {@code name} with exactly these labels (name/value pairs), summed over every
     * StatsSource (each series has one owner); 0 where none reports it.
     */
    long stat(String name, String... labels) {
        try {
            double sum = 0;
            for (ServiceReference<StatsSource> ref : context.getServiceReferences(StatsSource.class, null)) {
                StatsSource s = context.getService(ref);
                if (s != null) {
                    try {
                        sum += MetricSamples.of(s).valueOr(name, 0, labels);
                    } finally {
                        context.ungetService(ref);
                    }
                }
            }
            return (long) sum;
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Polls until correlation counts no message in flight: every message taken in has been
     * released (delivered, counted unrouted or dropped). A leak here would eventually stop the
     * transport reading (back-pressure that never ends).
     */
    void awaitPipelineIdle() throws InterruptedException {
        waitUntil("signalbox_pipeline_inflight back to 0 (now " + stat("signalbox_pipeline_inflight") + ")",
                () -> stat("signalbox_pipeline_inflight") == 0);
    }

    long unrouted() {
        return stat("signalbox_messages_unrouted_total");
    }

    /** One short-lived connection carrying {@code lines}, each terminated by a newline. */
    void send(String... lines) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            StringBuilder b = new StringBuilder();
            for (String l : lines) {
                b.append(l).append('\n');
            }
            out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** An event whose message text is {@code <tag>-<seq>}. */
    static String event(String src, String tag, long seq) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_700_000_000_000L + seq)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"" + tag + "-" + seq + "\"}}";
    }

    /**
     * Sends a probe ({@code probe} of 1, 2, …) about every quarter second until a line containing
     * {@code tag} is written under {@code root}: then every configuration change made before the
     * first probe has been processed by Config Admin and SCR.
     */
    void sendUntilWritten(Path root, String tag, IntFunction<String> probe) throws InterruptedException {
        AtomicInteger n = new AtomicInteger();
        waitUntil("a line with " + tag + " under " + root, () -> {
            if (!written(root, tag)) {
                try {
                    send(probe.apply(n.incrementAndGet()));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
            }
            return written(root, tag);
        });
    }

    private static boolean written(Path root, String tag) {
        return lines(root).stream().anyMatch(l -> l.contains(tag));
    }

    /** Every line of every {@code .jsonl} file under {@code root}, files in path order. */
    static List<String> lines(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            List<String> all = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().collect(Collectors.toList())) {
                all.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
            }
            return all;
        } catch (IOException e) {
            return List.of(); // a file being created right now: the caller polls again
        }
    }

    private boolean portOpen() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        waitUntil(what, DEADLINE, condition);
    }

    static void waitUntil(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            if (Thread.interrupted()) {
                throw new InterruptedException("waiting for: " + what);
            }
        }
    }

    /** Asserts the numbers are exactly 0..n-1 in order (reports the first problems compactly). */
    static void assertExactlyOnceInOrder(String what, List<Integer> seqs, int n) {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < seqs.size() && problems.size() < 5; i++) {
            if (seqs.get(i) != i) {
                problems.add("position " + i + " holds " + seqs.get(i));
            }
        }
        assertThat(problems).as("%s: %d received, expected 0..%d in order", what, seqs.size(), n - 1).isEmpty();
        assertThat(seqs).as(what).hasSize(n);
    }
}
