package io.signalbox.correlation.internal;

import static io.signalbox.correlation.internal.TestMessages.info;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code Ingest.offer(Message, Runnable)}: a message's callback runs only once routing reported the
 * batch that carries it delivered, once per message, and messages offered without one are unaffected.
 */
class DeliveredCallbackTest {
    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void callbackRunsOnlyAfterTheBatchCarryingTheMessageIsDelivered() {
        RecordingRouter router = RecordingRouter.holdingDeliveries();
        CorrelationEngine engine = engines.start(router, Map.of("batch.size", 2));
        List<String> acked = new ArrayList<>();

        engine.offer(info("k", "m1"), () -> acked.add("m1"));
        engine.offer(info("tcp", "t1")); // another source, no callback
        assertThat(router.batchCount()).isZero();
        engine.offer(info("k", "m2"), () -> acked.add("m2"));
        assertThat(router.batchCount()).as("batch.size=2 cut k's batch").isEqualTo(1);
        assertThat(acked).as("routed but not delivered yet").isEmpty();

        engine.offer(info("k", "m3"), () -> acked.add("m3"));
        engine.offer(info("k", "m4"), () -> acked.add("m4"));
        assertThat(router.batchCount()).isEqualTo(2);

        router.deliverOldest();
        assertThat(acked).containsExactly("m1", "m2");
        router.deliverOldest();
        assertThat(acked).containsExactly("m1", "m2", "m3", "m4");
    }

    @Test
    void oneSharedCallbackRunsOncePerMessageAndMixedBatchesStillReleaseCapacity() {
        RecordingRouter router = RecordingRouter.holdingDeliveries();
        CorrelationEngine engine = engines.start(router, Map.of("batch.size", 3));
        int[] count = new int[1];
        Runnable shared = () -> count[0]++;

        engine.offer(info("k", "a"), shared);
        engine.offer(info("k", "b")); // same source, no callback: shares the batch
        engine.offer(info("k", "c"), shared);
        assertThat(router.batchCount()).isEqualTo(1);
        assertThat(engine.isWritable()).isTrue();

        router.deliverOldest();
        assertThat(count[0]).isEqualTo(2);
        assertThat(Engines.metric(engine, "signalbox_pipeline_inflight")).isZero();
    }

    @Test
    void callbacksOfMessagesStillBufferedRunAfterTheAgeFlushIsDelivered() {
        CorrelationEngine engine = engines.start(Map.of("batch.size", 100, "flush.interval.ms", 1000));
        List<String> acked = new ArrayList<>();
        engine.offer(info("k", "m1"), () -> acked.add("m1"));
        engine.tick();
        assertThat(acked).as("still buffered").isEmpty();

        engines.clock.advanceMillis(1000);
        engine.tick();
        assertThat(acked).containsExactly("m1");
    }
}
