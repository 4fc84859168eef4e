package io.signalbox.load.jmh;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.Router;
import io.signalbox.api.SpanInfo;
import io.signalbox.correlation.internal.CorrelationEngine;

/**
 * {@code Ingest.offer} of traced jobs whose events and metrics name their span ({@code sid}), the
 * way the SDKs send them: the trace store keeps them per span (bounded) for {@code bin/signalbox
 * trace}. 2,000 jobs of 5 spans, each span 8 events and 2 metrics then its span message (the SDKs
 * send a span when it ends), in 16 sources. {@code trace.max.traces=1000} makes jobs fall out of
 * the store and come back, so the store keeps creating traces and keeping messages instead of only
 * counting cut ones once every bound is reached. Run with {@code -prof gc} to see the bytes
 * allocated per message.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar TraceEventsBenchmark -f 1 -wi 2 -i 3 -prof gc}
 */
public class TraceEventsBenchmark extends ThroughputBenchmark {
    private static final int JOBS = 2_000;
    private static final int SPANS = 5;
    private static final int EVENTS = 8;
    private static final int METRICS = 2;
    private static final int PER_JOB = SPANS * (EVENTS + METRICS + 1);

    private CorrelationEngine engine;
    private Message[] messages;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Router deliverAtOnce = (batch, delivered) -> delivered.run();
        CorrelationEngine.Config config = Converters.standardConverter()
                .convert(Map.of("batch.size", 100, "queue.capacity", 10_000, "trace.max.traces", 1_000))
                .to(CorrelationEngine.Config.class);
        engine = new CorrelationEngine(config, deliverAtOnce);
        messages = new Message[JOBS * PER_JOB];
        long ts = 1_763_800_000_000L;
        int i = 0;
        for (int job = 0; job < JOBS; job++) {
            String tid = "job-" + job;
            String source = "service-" + (job % 16);
            for (int s = 0; s < SPANS; s++) {
                String sid = "j" + job + "s" + s;
                String pid = s == 0 ? null : "j" + job + "s0";
                for (int e = 0; e < EVENTS; e++) {
                    messages[i++] = event(source, ts + i, tid, sid, e);
                }
                for (int m = 0; m < METRICS; m++) {
                    messages[i++] = metric(source, ts + i, tid, sid);
                }
                messages[i++] = span(source, ts + i, tid, sid, pid);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.deactivate();
    }

    @Benchmark
    @Threads(1)
    public boolean offerTracedEventsInSpans() {
        int i = next;
        next = i + 1 == messages.length ? 0 : i + 1;
        return engine.offer(messages[i]);
    }

    private static Message event(String source, long ts, String tid, String sid, int n) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"event\",\"tid\":\"" + tid
                + "\",\"sid\":\"" + sid + "\",\"data\":{\"level\":\"info\",\"msg\":\"step " + n + " done\"}}";
        return new Message(source, ts, MessageType.EVENT, tid, sid, null, "info", null, bytes(line));
    }

    private static Message metric(String source, long ts, String tid, String sid) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"metric\",\"tid\":\"" + tid
                + "\",\"sid\":\"" + sid + "\",\"data\":{\"name\":\"rows\",\"value\":1200,\"unit\":\"rows\"}}";
        return new Message(source, ts, MessageType.METRIC, tid, sid, null, null, null, bytes(line));
    }

    private static Message span(String source, long ts, String tid, String sid, String pid) {
        String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"span\",\"tid\":\"" + tid
                + "\",\"sid\":\"" + sid + "\"" + (pid == null ? "" : ",\"pid\":\"" + pid + "\"")
                + ",\"data\":{\"name\":\"step\",\"status\":\"ok\",\"start\":" + (ts - 40) + ",\"end\":" + ts + "}}";
        return new Message(source, ts, MessageType.SPAN, tid, sid, pid, null, new SpanInfo("step", "ok", ts - 40, ts),
                bytes(line));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
