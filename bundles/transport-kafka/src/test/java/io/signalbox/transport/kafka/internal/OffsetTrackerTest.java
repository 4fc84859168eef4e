package io.signalbox.transport.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    private final TopicPartition p0 = new TopicPartition("t", 0);
    private final TopicPartition p1 = new TopicPartition("t", 1);

    @Test
    void theCommittedOffsetNeverPassesAMessageStillInFlightWhateverTheDeliveryOrder() {
        OffsetTracker t = new OffsetTracker();
        OffsetTracker.Pending a = t.add(p0, 10, false);
        OffsetTracker.Pending b = t.add(p0, 11, false);
        t.add(p0, 12, true); // a dropped line
        OffsetTracker.Pending d = t.add(p0, 13, false);
        assertThat(t.due().isEmpty()).isTrue();

        b.run();
        d.run();
        assertThat(t.due().isEmpty()).as("10 is still in flight").isTrue();
        assertThat(t.uncommitted()).isEqualTo(4);

        a.run();
        OffsetTracker.Commit c = t.due();
        assertThat(c.offsets().get(p0).offset()).isEqualTo(14);
        assertThat(c.counts().get(p0)).isEqualTo(4);
        t.succeeded(c);
        assertThat(t.uncommitted()).isZero();
        assertThat(t.due().isEmpty()).isTrue();
    }

    @Test
    void aFailedCommitIsRepeatedByTheNextOneWithItsCount() {
        OffsetTracker t = new OffsetTracker();
        t.add(p0, 0, false).run();
        OffsetTracker.Commit failed = t.due();
        assertThat(failed.offsets().get(p0).offset()).isEqualTo(1);
        // not succeeded: Kafka refused it
        t.add(p0, 1, false).run();
        OffsetTracker.Commit next = t.due();
        assertThat(next.offsets().get(p0).offset()).isEqualTo(2);
        assertThat(next.counts().get(p0)).isEqualTo(2);
        t.succeeded(next);
        assertThat(t.uncommitted()).isZero();
    }

    @Test
    void revokedPartitionsLeaveTheCountAndLateAcknowledgementsDoNothing() {
        OffsetTracker t = new OffsetTracker();
        OffsetTracker.Pending late = t.add(p0, 5, false);
        t.add(p1, 7, false).run();
        t.revoked(List.of(p0));
        assertThat(t.uncommitted()).isEqualTo(1);
        late.run();
        OffsetTracker.Commit c = t.due();
        assertThat(c.offsets()).containsOnlyKeys(p1);
        assertThat(t.allDone()).isTrue();
    }
}
