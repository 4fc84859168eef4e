package io.signalbox.load.jmh;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.osgi.util.converter.Converters;

import io.signalbox.api.Backend;
import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.SpanInfo;
import io.signalbox.routing.internal.RouteDefinition;
import io.signalbox.routing.internal.RoutingEngine;

/**
 * {@code Router.route} throughput of the routing engine: batches of 100 messages (events,
 * metrics, spans) of 8 sources, routed to 1 or 3 no-op backends through their channels.
 * In-flight batches are bounded (as correlation bounds them) by a semaphore released in the
 * {@code delivered} callback, so the score is what the channels sustain end to end, not just
 * the cost of queueing. One op = one batch of 100 messages.
 *
 * <p>Run: {@code java -jar load/target/benchmarks.jar RoutingBenchmark -f 1 -wi 2 -i 3}
 */
public class RoutingBenchmark extends ThroughputBenchmark {
    private static final int SOURCES = 8;
    private static final int BATCH = 100;
    private static final int MAX_IN_FLIGHT = 1_000;

    /** Number of backends every batch goes to. */
    @Param({ "1", "3" })
    public int backends;

    private RoutingEngine engine;
    private BoundedRouting routing;

    /** A backend that accepts every batch at once. */
    private static final class NoOpBackend implements Backend {
        private long messages;

        @Override
        public void write(Batch batch) {
            messages += batch.size();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        engine = new RoutingEngine(Converters.standardConverter()
                .convert(Map.of("drain.timeout.seconds", 5)).to(RoutingEngine.Config.class));
        String[] names = new String[backends];
        for (int i = 0; i < backends; i++) {
            names[i] = "b" + i;
            engine.bindBackend(new NoOpBackend(), Map.of(Backend.NAME, names[i]));
        }
        engine.addRoute(RouteDefinition.of("all", "src-*", names));
        routing = new BoundedRouting(engine, MAX_IN_FLIGHT, SOURCES, RoutingBenchmark::batch);
    }

    private static Batch batch(String source, int salt) {
        List<Message> messages = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            long ts = 1_700_000_000_000L + salt * BATCH + i;
            MessageType type = i % 5 == 0 ? MessageType.SPAN : i % 2 == 0 ? MessageType.METRIC : MessageType.EVENT;
            String line;
            SpanInfo span = null;
            String level = null;
            switch (type) {
                case SPAN:
                    span = new SpanInfo("db.query", "ok", ts - 12, ts);
                    line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"span\",\"tid\":\"t" + salt
                            + "\",\"sid\":\"s" + i + "\",\"data\":{\"name\":\"db.query\",\"status\":\"ok\",\"dur_ms\":12}}";
                    break;
                case METRIC:
                    line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts
                            + ",\"type\":\"metric\",\"data\":{\"name\":\"queue.depth\",\"value\":" + i + ",\"unit\":\"n\"}}";
                    break;
                default:
                    level = "info";
                    line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts
                            + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"job step " + i + " done\"}}";
            }
            messages.add(new Message(source, ts, type, span == null ? null : "t" + salt,
                    span == null ? null : "s" + i, null, level, span, line.getBytes(StandardCharsets.UTF_8)));
        }
        return new Batch(source, messages);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        routing.awaitDelivered();
        engine.deactivate();
    }

    /** Routes one batch of 100 messages; waits only when {@value #MAX_IN_FLIGHT} batches are in flight. */
    @Benchmark
    public void route() throws InterruptedException {
        routing.routeNext();
    }
}
