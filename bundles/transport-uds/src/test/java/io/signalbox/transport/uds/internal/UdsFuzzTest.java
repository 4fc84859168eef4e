package io.signalbox.transport.uds.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.signalbox.api.FakeIngest;
import io.signalbox.protocol.FuzzStreams;

/** The protocol bundle's fuzz streams over real Unix domain socket connections, beside a slow sender. */
class UdsFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 15L);
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final FakeIngest ingest = new FakeIngest();
    private UdsTransport transport;

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
        Map<String, Object> props = new HashMap<>(Map.of("path", dir.resolve("s.sock").toString()));
        transport = new UdsTransport(Converters.standardConverter().convert(props).to(UdsTransport.Config.class), props,
                ingest);
        FuzzStreams fuzz = new FuzzStreams(SEED, 65_536);
        List<FuzzStreams.Stream> streams = new ArrayList<>();
        List<int[]> cuts = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            FuzzStreams.Stream s = fuzz.next(25_000, c == 1);
            streams.add(s);
            cuts.add(fuzz.cuts(s.bytes()));
        }
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(transport.path());
        AtomicBoolean dripping = new AtomicBoolean(true);
        SocketChannel slow = SocketChannel.open(address);
        Thread drip = new Thread(() -> {
            byte[] line = (UdsTransportTest.event("slow", 1) + "\n").getBytes(StandardCharsets.UTF_8);
            try {
                for (int i = 0; dripping.get(); i++) {
                    slow.write(ByteBuffer.wrap(line, i % line.length, 1));
                    Thread.sleep(100);
                }
            } catch (java.io.IOException | InterruptedException e) {
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
                    try (SocketChannel ch = SocketChannel.open(address)) {
                        int from = 0;
                        for (int end : ends) {
                            ByteBuffer b = ByteBuffer.wrap(s.bytes(), from, end - from);
                            while (b.hasRemaining()) {
                                ch.write(b);
                            }
                            from = end;
                        }
                        ch.shutdownOutput();
                        ByteBuffer sink = ByteBuffer.allocate(256);
                        while (ch.read(sink) >= 0) {
                            sink.clear();
                        }
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
    }
}
