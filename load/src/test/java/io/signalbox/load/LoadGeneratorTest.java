package io.signalbox.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.MessageType;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;

class LoadGeneratorTest {

    @Test
    void generatedLinesAreValidUniqueAndMixedSixtyThirtyTen() {
        LoadGenerator.LineWriter w = new LoadGenerator.LineWriter("load", 3, 8);
        LineDecoder decoder = new LineDecoder();
        ByteBuffer buf = ByteBuffer.allocate(1024);
        Map<MessageType, Integer> types = new EnumMap<>(MessageType.class);
        Set<String> lines = new HashSet<>();
        Set<String> sources = new HashSet<>();
        long bytes = 0;
        for (long i = 0; i < 10_000; i++) {
            buf.clear();
            w.write(buf, i);
            byte[] line = new byte[buf.position()];
            buf.flip();
            buf.get(line);
            assertThat(line[line.length - 1]).isEqualTo((byte) '\n');
            DecodeResult r = decoder.decode(line, 0, line.length - 1);
            assertThat(r.message()).as("line %s: %s", i, new String(line, StandardCharsets.UTF_8)).isNotNull();
            types.merge(r.message().type(), 1, Integer::sum);
            sources.add(r.message().source());
            lines.add(new String(line, StandardCharsets.UTF_8));
            bytes += line.length;
        }
        assertThat(lines).hasSize(10_000);
        assertThat(sources).hasSize(8);
        assertThat(types).containsEntry(MessageType.EVENT, 6000).containsEntry(MessageType.METRIC, 3000)
                .containsEntry(MessageType.SPAN, 1000);
        assertThat(bytes / 10_000).isBetween(140L, 200L);
    }

    @Test
    void sendsEveryMessageOverTheConnectionsAndCountsThemOnDisk(@TempDir Path dir) throws Exception {
        // a stand-in for the sidecar: writes whatever arrives into one .jsonl file per connection
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicLong received = new AtomicLong();
            List<Thread> sinks = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                for (int c = 0; c < 3; c++) {
                    try {
                        Socket s = server.accept();
                        Path out = dir.resolve("conn-" + c + ".jsonl");
                        Thread t = new Thread(() -> copy(s, out, received));
                        t.start();
                        sinks.add(t);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            acceptor.start();
            Path summary = dir.resolve("summary.txt");
            LoadGenerator gen = new LoadGenerator(LoadGenerator.parse(new String[] {"--port",
                    String.valueOf(server.getLocalPort()), "--connections", "3", "--messages", "20000",
                    "--await-dir", dir.toString(), "--await-timeout-seconds", "60", "--summary", summary.toString()}));
            assertThat(gen.run()).isTrue();
            acceptor.join();
            for (Thread t : sinks) {
                t.join();
            }
            assertThat(new LoadGenerator.LineCounter(dir).count()).isEqualTo(20_000);
            assertThat(Files.readAllLines(summary)).contains("messages=20000", "delivered=20000");
        }
    }

    @Test
    void countsNewlinesExactlyWhateverTheBytesAroundThem() {
        java.util.Random random = new java.util.Random(12);
        // bytes that trip word-at-a-time tricks: 0x0a next to 0x00, 0x0b, 0x8a, 0x09, 0xff, 0x80
        byte[] tricky = {0x0a, 0x00, 0x0b, (byte) 0x8a, 0x09, (byte) 0xff, (byte) 0x80, 0x01, 0x7f};
        for (int round = 0; round < 2_000; round++) {
            byte[] b = new byte[random.nextInt(200)];
            for (int i = 0; i < b.length; i++) {
                b[i] = random.nextBoolean() ? tricky[random.nextInt(tricky.length)] : (byte) random.nextInt(256);
            }
            int n = b.length == 0 ? 0 : random.nextInt(b.length + 1);
            long expected = 0;
            for (int i = 0; i < n; i++) {
                expected += b[i] == '\n' ? 1 : 0;
            }
            assertThat(LoadGenerator.LineCounter.newlines(b, n)).as("round %d", round).isEqualTo(expected);
        }
    }

    @Test
    void aCounterReadsOnlyWhatWasAddedSinceItsLastCount(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.jsonl");
        Files.writeString(f, "{}\n{}\n");
        LoadGenerator.LineCounter counter = new LoadGenerator.LineCounter(dir);
        assertThat(counter.count()).isEqualTo(2);
        Files.writeString(f, "{}\n", java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(dir.resolve("b.jsonl"), "{}\n{}\n{}\n");
        assertThat(counter.count()).isEqualTo(6);
        assertThat(counter.count()).isEqualTo(6);
    }

    private static void copy(Socket s, Path out, AtomicLong received) {
        try (s; InputStream in = s.getInputStream(); var os = Files.newOutputStream(out)) {
            received.addAndGet(in.transferTo(os));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
