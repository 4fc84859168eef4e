package io.signalbox.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.signalbox.sdk.Concurrently;

class RingTest {
    @Test
    void holdsExactlyTheBoundAndRefusesMore() {
        Ring ring = new Ring(3);
        assertThat(ring.offer("a")).as("held with it").isEqualTo(1);
        assertThat(ring.offer("b")).isEqualTo(2);
        assertThat(ring.offer("c")).isEqualTo(3);
        assertThat(ring.offer("d")).isZero();
        assertThat(ring.size()).isEqualTo(3);
    }

    @Test
    void peekDoesNotRemoveAndReleaseFreesInOrder() {
        Ring ring = new Ring(3);
        ring.offer("a");
        ring.offer("b");
        assertThat(ring.peek(0)).isEqualTo("a");
        assertThat(ring.peek(1)).isEqualTo("b");
        assertThat(ring.peek(2)).isNull();
        assertThat(ring.peek(0)).as("a failed write leaves the lines for replay").isEqualTo("a");
        ring.release(1);
        assertThat(ring.peek(0)).isEqualTo("b");
        assertThat(ring.offer("c")).isEqualTo(2);
        assertThat(ring.offer("d")).isEqualTo(3);
        assertThat(ring.offer("e")).isZero();
        ring.release(3);
        assertThat(ring.isEmpty()).isTrue();
    }

    @Test
    void wrapsAroundManyTimesWithABoundThatIsNotAPowerOfTwo() {
        Ring ring = new Ring(5);
        int next = 0;
        int expected = 0;
        for (int round = 0; round < 1000; round++) {
            while (ring.offer(Integer.toString(next)) > 0) {
                next++;
            }
            assertThat(ring.size()).isEqualTo(5);
            int take = 1 + round % 5;
            for (int i = 0; i < take; i++) {
                assertThat(ring.peek(i)).isEqualTo(Integer.toString(expected + i));
            }
            ring.release(take);
            expected += take;
        }
    }

    @Test
    void concurrentProducersLoseNothingThatWasAcceptedAndKeepEachProducersOrder() throws Exception {
        Ring ring = new Ring(64);
        int producers = 4;
        int perProducer = 50_000;
        AtomicInteger refused = new AtomicInteger();
        List<Thread> threads = Concurrently.start(producers, id -> {
            for (int i = 0; i < perProducer; i++) {
                if (ring.offer(id + ":" + i) == 0) {
                    refused.incrementAndGet();
                }
            }
        });
        Map<Integer, Integer> last = new HashMap<>();
        int consumed = 0;
        boolean running = true;
        while (running || !ring.isEmpty()) {
            running = threads.stream().anyMatch(Thread::isAlive);
            int n = 0;
            String line;
            while ((line = ring.peek(n)) != null) {
                int colon = line.indexOf(':');
                int id = Integer.parseInt(line.substring(0, colon));
                int seq = Integer.parseInt(line.substring(colon + 1));
                Integer before = last.put(id, seq);
                assertThat(before == null || seq > before).as("producer %d: %d after %s", id, seq, before).isTrue();
                n++;
            }
            ring.release(n);
            consumed += n;
            if (n == 0) {
                Thread.onSpinWait();
            }
        }
        Concurrently.join(threads);
        assertThat(consumed + refused.get()).isEqualTo(producers * perProducer);
    }
}
