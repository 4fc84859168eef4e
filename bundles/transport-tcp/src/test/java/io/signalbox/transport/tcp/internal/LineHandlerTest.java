package io.signalbox.transport.tcp.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.session.DummySession;
import org.junit.jupiter.api.Test;

import io.signalbox.api.DropReason;
import io.signalbox.api.FakeIngest;
import io.signalbox.api.MetricSamples;
import io.signalbox.protocol.LineDecoder;
import io.signalbox.protocol.LineIngest;
import io.signalbox.protocol.RejectCounters;

/** Framing without sockets: MINA's {@link DummySession} and hand-made read buffers. */
class LineHandlerTest {
    private static final int MAX = 120;

    private final FakeIngest ingest = new FakeIngest();
    private final RejectCounters rejects = new RejectCounters();
    private final TcpStats stats = new TcpStats();
    private final LineIngest handlerLines = lines(ingest);
    private final LineHandler handler = new LineHandler(handlerLines, stats, MAX, 10);

    private LineIngest lines(FakeIngest target) {
        return new LineIngest("tcp", target, new LineDecoder(), rejects);
    }

    private static final String OK1 = Lines.eventOfLength(MAX);
    private static final String OK2 = Lines.eventOfLength(80);
    private static final String TOO_LONG = Lines.eventOfLength(MAX + 1);
    private static final String INPUT = OK1 + "\n" + TOO_LONG + "\n" + "{garbage\r\n" + "\n" + OK2 + "\r\n"
            + "x".repeat(5 * MAX) + "\n" + OK1 + "\n" + OK2;

    private DummySession open() {
        DummySession session = new DummySession();
        handler.sessionOpened(session);
        return session;
    }

    @Test
    void everySplitPointOfTheInputFramesTheSameLines() {
        byte[] bytes = INPUT.getBytes(StandardCharsets.UTF_8);
        LineDecoder decoder = new LineDecoder();
        for (int cut = 0; cut <= bytes.length; cut++) {
            FakeIngest perCut = new FakeIngest();
            long tooLong = rejects.get(DropReason.TOO_LONG);
            long malformed = rejects.get(DropReason.MALFORMED);
            LineHandler h = new LineHandler(new LineIngest("tcp", perCut, decoder, rejects), new TcpStats(), MAX, 10);
            DummySession session = new DummySession();
            h.sessionOpened(session);

            h.messageReceived(session, IoBuffer.wrap(bytes, 0, cut));
            h.messageReceived(session, IoBuffer.wrap(bytes, cut, bytes.length - cut));
            h.sessionClosed(session);

            assertThat(perCut.lines()).as("cut at %d", cut).containsExactly(OK1, OK2, OK1, OK2);
            assertThat(rejects.get(DropReason.TOO_LONG) - tooLong).as("cut at %d", cut).isEqualTo(2);
            assertThat(rejects.get(DropReason.MALFORMED) - malformed).as("cut at %d", cut).isEqualTo(1);
        }
    }

    @Test
    void byteByByteDeliveryFramesTheSameLinesAndNeverBuffersMoreThanTheLimit() {
        DummySession session = open();
        byte[] bytes = INPUT.getBytes(StandardCharsets.UTF_8);
        int largestCarry = 0;
        for (int i = 0; i < bytes.length; i++) {
            handler.messageReceived(session, IoBuffer.wrap(bytes, i, 1));
            largestCarry = Math.max(largestCarry, LineHandler.connection(session).lines.carryLength());
        }
        handler.sessionClosed(session);

        assertThat(ingest.lines()).containsExactly(OK1, OK2, OK1, OK2);
        assertThat(largestCarry).isLessThanOrEqualTo(MAX + 1);
        assertThat(handlerLines.received()).isEqualTo(4);
        assertThat(stats.bytes.sum()).isEqualTo(bytes.length);
    }

    @Test
    void directBuffersAreFramedToo() {
        DummySession session = open();
        byte[] bytes = (OK1 + "\n" + OK2 + "\n").getBytes(StandardCharsets.UTF_8);
        IoBuffer direct = IoBuffer.allocate(bytes.length, true);
        direct.put(bytes).flip();

        handler.messageReceived(session, direct);

        assertThat(ingest.lines()).containsExactly(OK1, OK2);
        assertThat(direct.hasRemaining()).isFalse();
    }

    @Test
    void lineOfExactlyMaxLengthWithCrLfIsAcceptedOneByteMoreIsNot() {
        DummySession session = open();
        handler.messageReceived(session, IoBuffer.wrap((OK1 + "\r\n" + TOO_LONG + "\r\n").getBytes(StandardCharsets.UTF_8)));

        assertThat(ingest.lines()).containsExactly(OK1);
        assertThat(rejects.get(DropReason.TOO_LONG)).isEqualTo(1);
    }

    @Test
    void offerReportingFullSuspendsReadingOnceAndTheCallbackResumesIt() {
        DummySession session = open();
        ingest.setWritable(false);
        byte[] two = (OK1 + "\n" + OK2 + "\n").getBytes(StandardCharsets.UTF_8);

        handler.messageReceived(session, IoBuffer.wrap(two));
        handler.messageReceived(session, IoBuffer.wrap(two));

        assertThat(ingest.lines()).hasSize(4); // the messages are accepted, only reading stops
        assertThat(session.isReadSuspended()).isTrue();
        assertThat(ingest.registrations()).isEqualTo(1);
        assertThat(stats.suspensions.sum()).isEqualTo(1);

        ingest.setWritable(true);

        assertThat(session.isReadSuspended()).isFalse();
        assertThat(LineHandler.connection(session).suspended.get()).isFalse();
        handler.messageReceived(session, IoBuffer.wrap(two));
        assertThat(stats.suspensions.sum()).isEqualTo(1);
    }

    @Test
    void refusedSessionsBeyondTheLimitAreNotRead() {
        LineHandler limited = new LineHandler(lines(ingest), stats, MAX, 1);
        DummySession first = new DummySession();
        DummySession second = new DummySession();
        limited.sessionOpened(first);
        limited.sessionOpened(second);

        limited.messageReceived(second, IoBuffer.wrap((OK1 + "\n").getBytes(StandardCharsets.UTF_8)));
        limited.sessionClosed(second);

        assertThat(ingest.lines()).isEmpty();
        MetricSamples metrics = MetricSamples.of(stats);
        assertThat(metrics.value(TcpStats.ACTIVE)).isEqualTo(1);
        assertThat(metrics.value(TcpStats.REFUSED)).isEqualTo(1);
        assertThat(metrics.value(TcpStats.ACCEPTED)).isEqualTo(1);
    }

    @Test
    void anIngestThatThrowsLosesOnlyThatMessage() {
        List<String> seen = new ArrayList<>();
        LineHandler h = new LineHandler(lines(new FakeIngest() {
            @Override
            public boolean offer(io.signalbox.api.Message message) {
                String line = new String(message.line(), StandardCharsets.UTF_8);
                if (line.equals(OK1)) {
                    throw new IllegalStateException("boom (expected by the test)");
                }
                seen.add(line);
                return true;
            }
        }), stats, MAX, 10);
        DummySession session = new DummySession();
        h.sessionOpened(session);

        h.messageReceived(session, IoBuffer.wrap((OK1 + "\n" + OK2 + "\n").getBytes(StandardCharsets.UTF_8)));

        assertThat(seen).containsExactly(OK2);
    }
}
