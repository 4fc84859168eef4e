package io.signalbox.correlation.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.signalbox.api.Message;
import io.signalbox.api.MetricSamples;
import io.signalbox.api.Router;

/**
 * Engines for a test ({@code @RegisterExtension final Engines engines = new Engines();}): on one
 * hand-moved {@link #clock}, ticked by hand, deactivated after the test.
 */
final class Engines implements AfterEachCallback {
    final FakeClock clock = new FakeClock();
    private final List<CorrelationEngine> running = new ArrayList<>();

    /** An engine whose router delivers every batch at once. */
    CorrelationEngine start(Map<String, ?> properties) {
        return start(RecordingRouter.deliveringAtOnce(), properties);
    }

    /** An engine as {@link #start(Map)} that has been offered {@code messages}, in order. */
    CorrelationEngine fed(Map<String, ?> properties, Message... messages) {
        CorrelationEngine e = start(properties);
        for (Message m : messages) {
            e.offer(m);
        }
        return e;
    }

    CorrelationEngine start(Router router, Map<String, ?> properties) {
        CorrelationEngine e = new CorrelationEngine(TestMessages.config(properties), properties, router, clock::millis,
                clock::nanos, false);
        running.add(e);
        return e;
    }

    /** Deactivates {@code engine} now; the test goes on looking at it. */
    void stop(CorrelationEngine engine) {
        running.remove(engine);
        engine.deactivate();
    }

    /** The value of one series of {@code engine} (throws naming what was reported if it is absent). */
    static double metric(CorrelationEngine engine, String name, String... labels) {
        return MetricSamples.of(engine).value(name, labels);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        running.forEach(CorrelationEngine::deactivate);
        running.clear();
    }
}
