package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.zip.GZIPInputStream;

import org.osgi.util.converter.Converters;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;

/** Fakes and helpers shared by the file backend tests. */
final class TestSupport {
    private TestSupport() {
    }

    /** Configuration properties: {@code path} = {@code dir}, then the given keys and values. */
    static Map<String, Object> properties(Path dir, Object... keyValues) {
        Map<String, Object> map = new HashMap<>();
        map.put("path", dir.toString());
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    /** The typed configuration DS would make of {@code properties}. */
    static FileConfig config(Map<String, Object> properties) {
        return Converters.standardConverter().convert(properties).to(FileConfig.class);
    }

    /** Validated settings writing under {@code dir}. */
    static FileSettings settings(Path dir, Object... keyValues) {
        Map<String, Object> properties = properties(dir, keyValues);
        return FileSettings.of(config(properties), properties);
    }

    static Message message(String source, MessageType type, String text) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":1700000000000,\"type\":\"" + type.wireName()
                + "\",\"data\":{\"msg\":\"" + text + "\"}}";
        return new Message(source, 1_700_000_000_000L, type, null, null, null, null, null,
                line.getBytes(StandardCharsets.UTF_8));
    }

    static Batch batch(String source, int from, int count) {
        List<Message> list = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            list.add(message(source, MessageType.EVENT, String.format("m%05d", i)));
        }
        return new Batch(source, list);
    }

    static List<String> lines(Batch... batches) {
        List<String> out = new ArrayList<>();
        for (Batch b : batches) {
            for (Message m : b.messages()) {
                out.add(m.toString());
            }
        }
        return out;
    }

    static List<String> read(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    static List<String> gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    /**
     * The lines of {@code first} and of its size-rotated successors ({@code <stem>.1<ext>},
     * {@code <stem>.2<ext>} …), in order, each read plain or gzipped, whichever exists.
     */
    static List<String> rotatedSeries(Path first) throws IOException {
        String file = first.getFileName().toString();
        int dot = file.lastIndexOf('.');
        List<String> out = new ArrayList<>();
        for (int i = 0;; i++) {
            Path plain = i == 0 ? first : first.resolveSibling(file.substring(0, dot) + "." + i + file.substring(dot));
            Path gz = Gzip.target(plain);
            if (Files.exists(plain)) {
                out.addAll(read(plain));
            } else if (Files.exists(gz)) {
                out.addAll(gunzip(gz));
            } else {
                return out;
            }
        }
    }

    static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    /** A clock the test moves by hand. */
    static final class FakeClock extends Clock {
        private volatile long millis;

        FakeClock(String instant) {
            millis = Instant.parse(instant).toEpochMilli();
        }

        void set(String instant) {
            millis = Instant.parse(instant).toEpochMilli();
        }

        void advance(Duration d) {
            millis += d.toMillis();
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** Real files, with counted fsyncs and a failure that can be armed: "the disk fills up after N more bytes". */
    static final class Sinks implements FileSink.Factory {
        final AtomicInteger forces = new AtomicInteger();
        /** Reads of a file's contents (the tail check when an existing file is opened). */
        final AtomicInteger reads = new AtomicInteger();
        /** Bytes that may still be written before writes fail; -1 = never fail. */
        volatile long failAfterBytes = -1;
        volatile boolean failTruncate;
        /** Sinks open now, and how many may be before an open fails like EMFILE; -1 = no limit. */
        final AtomicInteger open = new AtomicInteger();
        volatile int descriptorLimit = -1;

        @Override
        public FileSink open(Path file) throws IOException {
            int limit = descriptorLimit;
            if (limit >= 0 && open.get() >= limit) {
                throw new java.nio.file.FileSystemException(file.toString(), null, "Too many open files");
            }
            open.incrementAndGet();
            return new FileSink.ChannelSink(file) {
                @Override
                public void close() throws IOException {
                    open.decrementAndGet();
                    super.close();
                }

                @Override
                public int write(ByteBuffer src) throws IOException {
                    long budget = failAfterBytes;
                    if (budget >= 0 && src.remaining() > budget) {
                        int limit = src.limit();
                        src.limit(src.position() + (int) budget);
                        while (src.hasRemaining()) {
                            super.write(src);
                        }
                        src.limit(limit);
                        failAfterBytes = 0;
                        throw new IOException("No space left on device (simulated)");
                    }
                    int n = super.write(src);
                    if (budget >= 0) {
                        failAfterBytes = budget - n;
                    }
                    return n;
                }

                @Override
                public void truncate(long size) throws IOException {
                    if (failTruncate) {
                        throw new IOException("Input/output error (simulated)");
                    }
                    super.truncate(size);
                }

                @Override
                public void force() throws IOException {
                    forces.incrementAndGet();
                    super.force();
                }

                @Override
                public int read(ByteBuffer dst, long position) throws IOException {
                    reads.incrementAndGet();
                    return super.read(dst, position);
                }
            };
        }
    }
}
