package io.signalbox.correlation.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.RateLimitedLog;

/** Back-pressure accounting on its own: no engine, no threads. */
class InFlightTest {
    private final InFlight inFlight = new InFlight(5, 5_000, new RateLimitedLog(LoggerFactory.getLogger(InFlightTest.class)));
    private final AtomicInteger resumed = new AtomicInteger();

    private void accept(int messages) {
        for (int i = 0; i < messages; i++) {
            inFlight.add(100);
        }
    }

    @Test
    void aCallbackWaitsAboveTheResumeLevelAndRunsOnceWhenADeliveryReachesIt() {
        accept(8);
        Runnable first = inFlight.delivery(2, 200);
        Runnable second = inFlight.delivery(1, 100);

        inFlight.whenWritable(resumed::incrementAndGet);
        assertThat(inFlight.anyWaiting()).isTrue();
        first.run(); // 6 left: still above 5
        assertThat(resumed).hasValue(0);
        second.run(); // 5 left
        assertThat(resumed).hasValue(1);
        assertThat(inFlight.anyWaiting()).isFalse();

        first.run();
        assertThat(inFlight.get()).as("a delivery releases its messages once").isEqualTo(5);
        assertThat(inFlight.bytes()).as("and their bytes once").isEqualTo(500);
        assertThat(resumed).hasValue(1);
    }

    @Test
    void atOrBelowTheResumeLevelACallbackRunsAtOnce() {
        accept(5);
        inFlight.whenWritable(resumed::incrementAndGet);
        assertThat(resumed).hasValue(1);
        assertThat(inFlight.anyWaiting()).isFalse();
    }

    @Test
    void raisingTheResumeLevelRunsTheCallbacksItNowAllows() {
        accept(8);
        inFlight.whenWritable(resumed::incrementAndGet);
        inFlight.resumeAt(7, 5_000);
        assertThat(resumed).hasValue(0);

        inFlight.resumeAt(8, 5_000);
        assertThat(resumed).hasValue(1);
    }

    @Test
    void aFailingCallbackDoesNotStopTheOthers() {
        accept(8);
        inFlight.whenWritable(() -> {
            throw new IllegalStateException("expected by the test");
        });
        inFlight.whenWritable(resumed::incrementAndGet);

        inFlight.runWaiting();

        assertThat(resumed).hasValue(1);
    }

    @Test
    void aCallbackAlsoWaitsForTheBytesToFallToTheirResumeLevel() {
        inFlight.add(4_000);
        inFlight.add(3_000); // 2 messages: below the count level, above the 5,000 bytes level
        Runnable small = inFlight.delivery(1, 1_000); // a part of the first message's weight, for the test
        Runnable rest = inFlight.delivery(1, 1_500);

        inFlight.whenWritable(resumed::incrementAndGet);
        assertThat(resumed).hasValue(0);
        small.run(); // 6,000 bytes left
        assertThat(resumed).hasValue(0);
        rest.run(); // 4,500 bytes left
        assertThat(resumed).hasValue(1);
    }

    @Test
    void aSpanWeighsItsTraceIdAndSpanDetailsToo() {
        Message span = TestMessages.span("a", "t-1", "s-1", null, "handle", 1_700_000_000_000L);
        assertThat(span.traceId()).isNotNull();
        assertThat(span.span()).isNotNull();
        assertThat(InFlight.weight(span)).isEqualTo(span.line().length + InFlight.MESSAGE_OVERHEAD_BYTES
                + InFlight.TRACE_ID_BYTES + InFlight.SPAN_BYTES);
    }

    @Test
    void theWeightOfAMessageIsItsLinePlusTheFixedOverheadAndABatchSumsItsMessages() {
        Message m = TestMessages.event("a", "info", "{\"v\":1}");
        long one = InFlight.weight(m);
        assertThat(m.traceId()).isNull();
        assertThat(one).isEqualTo(m.line().length + InFlight.MESSAGE_OVERHEAD_BYTES);
        assertThat(InFlight.weight(new Batch("a", List.of(m, m, m)))).isEqualTo(3 * one);
    }

    @Test
    void concurrentReleasesThatTogetherCrossBothLevelsAlwaysRunTheCallback() throws Exception {
        for (int round = 0; round < 2_000; round++) {
            InFlight f = new InFlight(0, 0, new RateLimitedLog(LoggerFactory.getLogger(InFlightTest.class)));
            f.add(10);
            f.add(10);
            Runnable a = f.delivery(1, 10);
            Runnable b = f.delivery(1, 10);
            AtomicInteger ran = new AtomicInteger();
            f.whenWritable(ran::incrementAndGet);
            Thread other = new Thread(a);
            other.start();
            b.run();
            other.join();
            assertThat(ran).as("round %d", round).hasValue(1);
        }
    }
}
