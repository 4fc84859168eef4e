package io.signalbox.load.jmh;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.ThreadParams;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.Router;
import io.signalbox.api.SpanInfo;
import io.signalbox.correlation.internal.CorrelationEngine;

/**
 * {@code Ingest.offer} throughput of the correlation component: 8 sources, batches of 100,
 * a router that calls {@code delivered} at once. Two message mixes: plain events and metrics
 * without a trace id, and a mix where a third carry a trace id (half of those spans). The
 * {@code *OwnSources} variant gives each thread its own 4 sources, as when every connection
 * carries its own services; in the others both threads write to all 8 sources (contended).
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar CorrelationBenchmark -f 1 -wi 2 -i 3}
 */
public class CorrelationBenchmark extends ThroughputBenchmark {
    private static final int SOURCES = 8;
    private static final int MESSAGES = 4096;

    private CorrelationEngine engine;
    private Message[] untraced;
    private Message[] mixed;

    /** Each benchmark thread walks the message arrays from its own position. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        int advance() {
            int i = next;
            next = (i + 1) & (MESSAGES - 1);
            return i;
        }
    }

    /** The untraced mix, but only of the sources that belong to this thread (threads × 4 = 8). */
    @State(Scope.Thread)
    public static class OwnSources {
        Message[] messages;
        int next;

        @Setup(Level.Trial)
        public void setUp(ThreadParams thread) {
            int perThread = SOURCES / thread.getThreadCount();
            messages = new Message[MESSAGES];
            for (int i = 0; i < MESSAGES; i++) {
                String source = "service-" + (thread.getThreadIndex() * perThread + i % perThread);
                long ts = 1_763_800_000_000L + i;
                messages[i] = i % 2 == 0 ? event(source, ts, null) : metric(source, ts);
            }
        }

        Message advance() {
            int i = next;
            next = (i + 1) & (MESSAGES - 1);
            return messages[i];
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        Router deliverAtOnce = (batch, delivered) -> delivered.run();
        CorrelationEngine.Config config = Converters.standardConverter()
                .convert(Map.of("batch.size", 100, "queue.capacity", 10_000))
                .to(CorrelationEngine.Config.class);
        engine = new CorrelationEngine(config, deliverAtOnce);
        untraced = new Message[MESSAGES];
        mixed = new Message[MESSAGES];
        long ts = 1_763_800_000_000L;
        for (int i = 0; i < MESSAGES; i++) {
            String source = "service-" + (i % SOURCES);
            untraced[i] = i % 2 == 0 ? event(source, ts + i, null) : metric(source, ts + i);
            switch (i % 6) {
                case 0:
                    mixed[i] = event(source, ts + i, "trace-" + (i % 512));
                    break;
                case 1:
                    mixed[i] = span(source, ts + i, "trace-" + (i % 512), i);
                    break;
                case 2:
                case 4:
                    mixed[i] = metric(source, ts + i);
                    break;
                default:
                    mixed[i] = event(source, ts + i, null);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.deactivate();
    }

    @Benchmark
    @Threads(1)
    public boolean offerUntraced1Thread(Cursor cursor) {
        return engine.offer(untraced[cursor.advance()]);
    }

    @Benchmark
    @Threads(2)
    public boolean offerUntraced2Threads(Cursor cursor) {
        return engine.offer(untraced[cursor.advance()]);
    }

    @Benchmark
    @Threads(2)
    public boolean offerUntraced2ThreadsOwnSources(OwnSources own) {
        return engine.offer(own.advance());
    }

    @Benchmark
    @Threads(1)
    public boolean offerMixed1Thread(Cursor cursor) {
        return engine.offer(mixed[cursor.advance()]);
    }

    @Benchmark
    @Threads(2)
    public boolean offerMixed2Threads(Cursor cursor) {
        return engine.offer(mixed[cursor.advance()]);
    }

    private static Message event(String source, long ts, String traceId) {
        String tid = traceId == null ? "" : ",\"tid\":\"" + traceId + "\"";
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"event\"" + tid
                + ",\"data\":{\"level\":\"info\",\"msg\":\"processed order batch in 12 ms\",\"ctx\":{\"job_id\":\"j-42\"}}}";
        return new Message(source, ts, MessageType.EVENT, traceId, null, null, "info", null, bytes(line));
    }

    private static Message metric(String source, long ts) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"metric\",\"data\":{\"name\":"
                + "\"queue.depth\",\"value\":17,\"unit\":\"items\",\"tags\":{\"queue\":\"orders\",\"host\":\"h1\"}}}";
        return new Message(source, ts, MessageType.METRIC, null, null, null, null, null, bytes(line));
    }

    private static Message span(String source, long ts, String traceId, int i) {
        String sid = "s" + i;
        String pid = "s" + (i - 6);
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"span\",\"tid\":\"" + traceId
                + "\",\"sid\":\"" + sid + "\",\"pid\":\"" + pid + "\",\"data\":{\"name\":\"db.query\",\"status\":\"ok\","
                + "\"start\":" + (ts - 4) + ",\"end\":" + ts + "}}";
        return new Message(source, ts, MessageType.SPAN, traceId, sid, pid, null,
                new SpanInfo("db.query", "ok", ts - 4, ts), bytes(line));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
