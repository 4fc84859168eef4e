package io.signalbox.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end load generator: opens {@code --connections} persistent TCP connections to a running
 * sidecar and sends {@code --messages} protocol v1 lines as fast as the sockets take them (or at
 * {@code --rate} messages/s in total), a 60/30/10 mix of events, metrics and spans from
 * {@code --sources} sources named {@code <source-prefix>-<n>}, ~170 bytes each, every line of a
 * run unique (connection and sequence number).
 *
 * <p>With {@code --await-dir} it then watches the file backend's output directory until it holds
 * every message sent (it counts newline bytes in {@code *.jsonl} files, reading only what is new)
 * and reports the end-to-end rate: first byte sent → last line on disk. Lines are generated
 * straight into the socket buffer (no String per message) so that the generator, which shares
 * the machine's cores with the sidecar, costs as little as possible.
 *
 * <p>Output is one summary block on the log (SLF4J simple logger writes to stderr) and, with
 * {@code --summary FILE}, the same numbers as {@code key=value} lines for scripts.
 */
public final class LoadGenerator {
    private static final Logger LOG = LoggerFactory.getLogger(LoadGenerator.class);
    private static final long BASE_TS = 1_763_900_000_000L;

    private final String host;
    private final int port;
    private final int connections;
    private final long messages;
    private final int sources;
    private final long rate;
    private final Path awaitDir;
    private final long awaitTimeoutMs;
    private final Path summary;
    private final String sourcePrefix;

    LoadGenerator(Map<String, String> opts) {
        host = opts.getOrDefault("host", "127.0.0.1");
        port = Integer.parseInt(opts.getOrDefault("port", "17000"));
        connections = Integer.parseInt(opts.getOrDefault("connections", "4"));
        messages = Long.parseLong(opts.getOrDefault("messages", "2000000"));
        sources = Integer.parseInt(opts.getOrDefault("sources", "8"));
        rate = Long.parseLong(opts.getOrDefault("rate", "0"));
        awaitDir = opts.containsKey("await-dir") ? Path.of(opts.get("await-dir")) : null;
        awaitTimeoutMs = Long.parseLong(opts.getOrDefault("await-timeout-seconds", "600")) * 1000;
        summary = opts.containsKey("summary") ? Path.of(opts.get("summary")) : null;
        sourcePrefix = opts.getOrDefault("source-prefix", "load");
        if (connections < 1 || sources < 1 || messages < 0 || rate < 0) {
            throw new IllegalArgumentException("connections and sources must be >= 1, messages and rate >= 0");
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        if (opts == null) {
            LOG.error("usage: LoadGenerator [--host 127.0.0.1] [--port 17000] [--connections 4] [--messages 2000000] "
                    + "[--sources 8] [--rate msgs/s, 0=unlimited] [--await-dir DIR] [--await-timeout-seconds 600] "
                    + "[--summary FILE] [--source-prefix load]");
            System.exit(2);
        }
        System.exit(new LoadGenerator(opts).run() ? 0 : 1);
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                return null;
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        return opts;
    }

    /** Sends, optionally awaits delivery, reports; returns whether every message was seen on disk. */
    boolean run() throws Exception {
        // one counter for the whole run: it remembers how far it read each file, so the count after sending
        // reads only what this run added (a new counter re-read everything, a warm-up's output included)
        LineCounter counter = awaitDir == null ? null : new LineCounter(awaitDir);
        long before = counter == null ? 0 : counter.count();
        if (counter != null) {
            LineCounter.warmUp(); // compiled before the clock starts: its first count is not the JIT's
        }
        AtomicLong bytes = new AtomicLong();
        List<Thread> senders = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            int conn = c;
            long share = messages / connections + (c < messages % connections ? 1 : 0);
            Thread t = new Thread(() -> {
                try {
                    bytes.addAndGet(send(conn, share));
                } catch (IOException | RuntimeException e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                    LOG.error("connection {} failed", conn, e);
                }
            }, "load-conn-" + c);
            t.start();
            senders.add(t);
        }
        long nextCount = 0;
        for (Thread t : senders) {
            // counting what is on disk while the senders run leaves only the last 0.1 s of output to read
            // after the last byte is sent (reading all of a 2 M-line run's 340 MB then took ~0.15 s); at
            // most a tenth of one core (a round over 10,000 files costs more than reading new bytes)
            while (t.isAlive()) {
                t.join(100);
                if (counter != null && t.isAlive() && System.nanoTime() - nextCount >= 0) {
                    long began = System.nanoTime();
                    counter.count();
                    long now = System.nanoTime();
                    nextCount = now + 9 * (now - began);
                }
            }
        }
        long sent = System.nanoTime();
        if (!failures.isEmpty()) {
            return false;
        }
        Map<String, Object> report = new java.util.LinkedHashMap<>();
        report.put("messages", messages);
        report.put("connections", connections);
        report.put("sources", sources);
        report.put("bytes", bytes.get());
        report.put("avg_line_bytes", messages == 0 ? 0 : bytes.get() / messages);
        double sendSeconds = (sent - start) / 1e9;
        report.put("send_seconds", fmt(sendSeconds));
        report.put("send_msgs_per_s", Math.round(messages / sendSeconds));
        boolean complete = true;
        if (counter != null) {
            long expected = before + messages;
            long deadline = System.nanoTime() + awaitTimeoutMs * 1_000_000;
            long seen;
            while ((seen = counter.count()) < expected && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long done = System.nanoTime();
            complete = seen >= expected;
            double e2e = (done - start) / 1e9;
            report.put("delivered", seen - before);
            report.put("e2e_seconds", fmt(e2e));
            report.put("e2e_msgs_per_s", Math.round((seen - before) / e2e));
            report.put("e2e_mib_per_s", fmt(bytes.get() / e2e / (1024 * 1024)));
        }
        StringBuilder text = new StringBuilder();
        report.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        LOG.info("load result:\n{}", text);
        if (summary != null) {
            Files.writeString(summary, text);
        }
        if (!complete) {
            LOG.error("only {} of {} messages arrived in {} within {} s", report.get("delivered"), messages, awaitDir,
                    awaitTimeoutMs / 1000);
        }
        return complete;
    }

    private long send(int conn, long count) throws IOException {
        long total = 0;
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port))) {
            ch.socket().setSendBufferSize(1 << 20);
            ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
            LineWriter w = new LineWriter(sourcePrefix, conn, sources);
            long perConnRate = rate == 0 ? 0 : Math.max(1, rate / connections);
            long t0 = System.nanoTime();
            for (long i = 0; i < count; i++) {
                if (buf.remaining() < 1024) {
                    buf.flip();
                    total += buf.remaining();
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    buf.clear();
                    if (perConnRate > 0) {
                        pace(t0, i, perConnRate);
                    }
                }
                w.write(buf, i);
            }
            buf.flip();
            total += buf.remaining();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        return total;
    }

    private static void pace(long t0, long sentSoFar, long perSecond) {
        long due = t0 + sentSoFar * 1_000_000_000L / perSecond;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    /** Writes protocol v1 lines byte by byte into a buffer: 60 % events, 30 % metrics, 10 % spans. */
    static final class LineWriter {
        private final int conn;
        private final byte[][] srcPrefix;

        LineWriter(String sourcePrefix, int conn, int sources) {
            this.conn = conn;
            srcPrefix = new byte[sources][];
            for (int s = 0; s < sources; s++) {
                srcPrefix[s] = ascii("{\"v\":1,\"src\":\"" + sourcePrefix + "-" + s + "\",\"ts\":");
            }
        }

        private static final byte[] EVENT_A = ascii(",\"type\":\"event\",\"ctx\":{\"conn\":");
        private static final byte[] EVENT_B = ascii("},\"data\":{\"level\":\"info\",\"msg\":\"load message ");
        private static final byte[] EVENT_C = ascii(" lorem ipsum dolor sit amet, consectetur\"}}\n");
        private static final byte[] METRIC_A = ascii(",\"type\":\"metric\",\"data\":{\"name\":\"queue.depth\",\"value\":");
        private static final byte[] METRIC_B = ascii(",\"unit\":\"items\",\"tags\":{\"queue\":\"jobs-");
        private static final byte[] METRIC_C = ascii("\",\"host\":\"load-host\"}}}\n");
        private static final byte[] SPAN_A = ascii(",\"type\":\"span\",\"tid\":\"c");
        private static final byte[] SPAN_B = ascii("\",\"sid\":\"s");
        private static final byte[] SPAN_C = ascii("\",\"data\":{\"name\":\"handle request\",\"status\":\"ok\",\"start\":");
        private static final byte[] SPAN_D = ascii(",\"end\":");
        private static final byte[] SPAN_E = ascii("}}\n");

        void write(ByteBuffer b, long i) {
            long ts = BASE_TS + i;
            b.put(srcPrefix[(int) (i % srcPrefix.length)]);
            number(b, ts);
            int kind = (int) (i % 10);
            if (kind < 6) {
                b.put(EVENT_A);
                number(b, conn);
                b.put(EVENT_B);
                number(b, conn);
                b.put((byte) '-');
                number(b, i);
                b.put(EVENT_C);
            } else if (kind < 9) {
                b.put(METRIC_A);
                number(b, i % 1000);
                b.put(METRIC_B);
                number(b, conn);
                b.put((byte) '-');
                // 16 queues per connection: a bounded set of series, as real metrics have (a value
                // per message made one series per point in the metrics store)
                number(b, i % 16);
                b.put(METRIC_C);
            } else {
                b.put(SPAN_A);
                number(b, conn);
                b.put((byte) '-');
                number(b, i / 100);
                b.put(SPAN_B);
                number(b, i);
                b.put(SPAN_C);
                number(b, ts - 5);
                b.put(SPAN_D);
                number(b, ts);
                b.put(SPAN_E);
            }
        }

        private static void number(ByteBuffer b, long v) {
            if (v == 0) {
                b.put((byte) '0');
                return;
            }
            int start = b.position();
            while (v > 0) {
                b.put((byte) ('0' + (v % 10)));
                v /= 10;
            }
            for (int lo = start, hi = b.position() - 1; lo < hi; lo++, hi--) {
                byte t = b.get(lo);
                b.put(lo, b.get(hi));
                b.put(hi, t);
            }
        }

        private static byte[] ascii(String s) {
            return s.getBytes(StandardCharsets.US_ASCII);
        }
    }

    /**
     * Counts '\n' in every *.jsonl under a directory, reading each file only from where it left off.
     * Its time after the last byte is sent is part of the measured end-to-end time, so it finds the
     * newlines with the decoder's eight-bytes-at-a-time search (a byte loop took 0.4-0.5 s for the 340 MB
     * of a 2,000,000-line run).
     */
    static final class LineCounter {
        private final Path root;
        private final Map<Path, long[]> seen = new HashMap<>(); // path -> {offset, lines}
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20);

        LineCounter(Path root) {
            this.root = root;
        }

        /** The number of '\n' bytes in {@code b[0, n)}. */
        static long newlines(byte[] b, int n) {
            long count = 0;
            for (int p = 0; (p = io.signalbox.protocol.LineFramer.indexOfNewline(b, p, n)) >= 0; p++) {
                count++;
            }
            return count;
        }

        /** Runs {@link #newlines} until the JIT has compiled it. */
        static void warmUp() {
            byte[] b = new byte[1 << 16];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (i % 170 == 169 ? '\n' : 'x');
            }
            long sum = 0;
            for (int r = 0; r < 2_000; r++) {
                sum += newlines(b, b.length - (r & 7));
            }
            if (sum <= 0) {
                throw new IllegalStateException("newline count of the warm-up buffer: " + sum);
            }
        }

        long count() throws IOException {
            if (!Files.isDirectory(root)) {
                return 0;
            }
            List<Path> files;
            try (Stream<Path> walk = Files.walk(root)) {
                files = walk.filter(p -> p.toString().endsWith(".jsonl")).toList();
            }
            long total = 0;
            for (Path f : files) {
                long[] st = seen.computeIfAbsent(f, k -> new long[2]);
                try {
                    if (Files.size(f) == st[0]) {
                        total += st[1]; // unchanged: with 10,000 sources, opening every file each round would cost
                        continue;       // the generator more CPU than the sidecar it measures (same two cores)
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    LOG.debug("{} gone while counting; counting it again next round", f);
                    total += st[1];
                    continue;
                }
                try (java.nio.channels.FileChannel in = java.nio.channels.FileChannel.open(f)) {
                    long pos = st[0];
                    int n;
                    while ((n = in.read(buf.clear(), pos)) > 0) {
                        st[1] += newlines(buf.array(), n);
                        pos += n;
                    }
                    st[0] = pos;
                } catch (java.nio.file.NoSuchFileException e) {
                    LOG.debug("{} gone while counting ({}); counting it again next round", f, e.toString());
                }
                total += st[1];
            }
            return total;
        }
    }
}
