package io.signalbox.correlation.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import io.signalbox.api.RateLimitedLog;

/** Back-pressure accounting on its own: no engine, no threads. */
class InFlightTest {
    private final InFlight inFlight = new InFlight(5, new RateLimitedLog(LoggerFactory.getLogger(InFlightTest.class)));
    private final AtomicInteger resumed = new AtomicInteger();

    private void accept(int messages) {
        for (int i = 0; i < messages; i++) {
            inFlight.incrementAndGet();
        }
    }

    @Test
    void aCallbackWaitsAboveTheResumeLevelAndRunsOnceWhenADeliveryReachesIt() {
        accept(8);
        Runnable first = inFlight.delivery(2);
        Runnable second = inFlight.delivery(1);

        inFlight.whenWritable(resumed::incrementAndGet);
        assertThat(inFlight.anyWaiting()).isTrue();
        first.run(); // 6 left: still above 5
        assertThat(resumed).hasValue(0);
        second.run(); // 5 left
        assertThat(resumed).hasValue(1);
        assertThat(inFlight.anyWaiting()).isFalse();

        first.run();
        assertThat(inFlight.get()).as("a delivery releases its messages once").isEqualTo(5);
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
        inFlight.resumeAt(7);
        assertThat(resumed).hasValue(0);

        inFlight.resumeAt(8);
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
}
