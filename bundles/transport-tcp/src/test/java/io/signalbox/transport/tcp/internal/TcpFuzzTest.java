package io.signalbox.transport.tcp.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.util.converter.Converters;

import io.signalbox.api.FakeIngest;
import io.signalbox.protocol.FuzzStreams;

/**
 * The fuzz streams of the protocol bundle over real TCP connections, concurrently, next to a
 * sender of one byte per 100 ms: every line the oracle accepts arrives exactly once, nothing
 * else, and the slow connection holds nobody up. Seeded ({@code -Dfuzz.seed=}).
 */
class TcpFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 14L);
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private final FakeIngest ingest = new FakeIngest();
    private TcpTransport transport;

    @AfterEach
    void stop() {
        if (transport != null) {
            transport.deactivate();
        }
        ingest.close();
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void hostileStreamsOnFourConnectionsDeliverEveryValidLineOnceBesideASlowSender() throws Exception {
        Map<String, Object> props = new HashMap<>(Map.of("host", "127.0.0.1", "port", 0, "io.threads", 2));
        transport = new TcpTransport(Converters.standardConverter().convert(props).to(TcpTransport.Config.class), props,
                ingest);
        FuzzStreams fuzz = new FuzzStreams(SEED, 65_536);
        List<FuzzStreams.Stream> streams = new ArrayList<>();
        List<int[]> cuts = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            FuzzStreams.Stream s = fuzz.next(25_000, c == 0);
            streams.add(s);
            cuts.add(fuzz.cuts(s.bytes()));
        }
        AtomicBoolean dripping = new AtomicBoolean(true);
        Socket slow = new Socket("127.0.0.1", transport.port());
        Thread drip = new Thread(() -> {
            byte[] line = (Lines.event("slow", 1) + "\n").getBytes(StandardCharsets.UTF_8);
            try {
                OutputStream out = slow.getOutputStream();
                for (int i = 0; dripping.get(); i++) {
                    out.write(line[i % line.length]);
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException e) {
                // ends with the test
            }
        });
        drip.start();
        ExecutorService senders = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> sent = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                FuzzStreams.Stream s = streams.get(c);
                int[] ends = cuts.get(c);
                sent.add(senders.submit(() -> {
                    try (Socket socket = new Socket("127.0.0.1", transport.port())) {
                        OutputStream out = socket.getOutputStream();
                        int from = 0;
                        for (int end : ends) {
                            out.write(s.bytes(), from, end - from);
                            out.flush();
                            from = end;
                        }
                        socket.shutdownOutput();
                        socket.getInputStream().readAllBytes(); // the server closes after the rest was read
                    }
                    return null;
                }));
            }
            for (Future<?> f : sent) {
                f.get(5, TimeUnit.MINUTES);
            }
            long expected = streams.stream().mapToLong(s -> s.expected().size()).sum();
            waitUntil(expected + " messages", () -> ingest.count() >= expected);
        } finally {
            dripping.set(false);
            drip.join();
            slow.close();
            senders.shutdownNow();
        }
        Map<String, Long> want = streams.stream().flatMap(s -> s.expected().stream())
                .collect(Collectors.groupingBy(l -> l, Collectors.counting()));
        Map<String, Long> got = ingest.lines().stream().filter(l -> !l.contains("\"src\":\"slow\""))
                .collect(Collectors.groupingBy(l -> l, Collectors.counting()));
        assertThat(got).as("seed %d: every accepted line exactly once, nothing else", SEED).isEqualTo(want);
        assertThat(streams.stream().mapToInt(FuzzStreams.Stream::lines).sum()).isEqualTo(100_000);
    }
}
