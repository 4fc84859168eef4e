package io.signalbox.load.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.Router;

/**
 * The defaults of the in-process throughput benchmarks (operations per second, one shared state);
 * JMH's annotations are inherited, so a benchmark states only what differs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public abstract class ThroughputBenchmark {

    /** Deletes {@code dir} and everything below it (the temporary folder of a benchmark). */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /**
     * A batch of {@code size} ~170-byte events of {@code source} (trace {@code job-<salt>}, one
     * per job step), every line unique through {@code salt}: what the spool benchmarks route.
     */
    static Batch eventBatch(String source, int salt, int size) {
        List<Message> messages = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            long ts = 1_700_000_000_000L + (long) salt * size + i;
            String line = "{\"v\":1,\"src\":\"" + source + "\",\"ts\":" + ts + ",\"type\":\"event\",\"tid\":\"job-"
                    + salt + "\",\"data\":{\"level\":\"info\",\"msg\":\"job step " + i + " done\",\"n\":" + i + "}}";
            messages.add(new Message(source, ts, MessageType.EVENT, "job-" + salt, null, null, "info", null,
                    line.getBytes(StandardCharsets.UTF_8)));
        }
        return new Batch(source, messages);
    }

    /**
     * Prepared batches routed round robin with at most {@code maxInFlight} of them not yet
     * delivered (as correlation bounds them): a permit is taken per batch and given back in the
     * {@code delivered} callback, so routing through this measures what the channels sustain
     * end to end, not just the cost of queueing.
     */
    static final class BoundedRouting {
        private final Router router;
        private final int maxInFlight;
        private final Semaphore inFlight;
        private final Runnable release;
        private final Batch[] batches;
        private int next;

        /**
         * {@code sources * 4} batches, {@code batch.apply("src-" + (i % sources), i)} for the
         * i-th, routed to {@code router}.
         */
        BoundedRouting(Router router, int maxInFlight, int sources, BiFunction<String, Integer, Batch> batch) {
            this.router = router;
            this.maxInFlight = maxInFlight;
            inFlight = new Semaphore(maxInFlight);
            release = inFlight::release;
            batches = new Batch[sources * 4];
            for (int i = 0; i < batches.length; i++) {
                batches[i] = batch.apply("src-" + (i % sources), i);
            }
        }

        /** Routes the next batch; waits only while {@code maxInFlight} batches are in flight. */
        void routeNext() throws InterruptedException {
            inFlight.acquire();
            Batch b = batches[next];
            next = next + 1 == batches.length ? 0 : next + 1;
            router.route(b, release);
        }

        /** Waits until every batch routed so far was delivered. */
        void awaitDelivered() throws InterruptedException {
            inFlight.acquire(maxInFlight);
        }
    }
}
