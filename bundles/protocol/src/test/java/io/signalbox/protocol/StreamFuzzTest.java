package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.signalbox.api.Ingest;
import io.signalbox.api.Message;

/**
 * The fuzz run of issue 14 at the shared line processing of the stream transports (framing,
 * authentication, decoding, ingest: {@link LineIngest} / {@link LineSession}, what TCP and UDS run):
 * 1,000,000 generated lines on 8 connections at a time, their reads interleaved and cut at random.
 * Seeded: a failure names its seed and round, and the same run reproduces it.
 */
class StreamFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 20261207L);
    private static final int MAX = 65_536;
    private static final int CONNECTIONS = 8;
    private static final int LINES_PER_CONNECTION = 5_000;
    private static final int ROUNDS = 25; // 25 x 8 x 5,000 = 1,000,000 lines

    /** Checks each message against the connection's expected lines as it arrives (nothing is kept). */
    private static final class Checking implements Ingest {
        final List<String> expected;
        int next;
        final List<String> problems = new ArrayList<>();

        Checking(List<String> expected) {
            this.expected = expected;
        }

        @Override
        public boolean offer(Message message) {
            String line = new String(message.line(), java.nio.charset.StandardCharsets.UTF_8);
            if (next >= expected.size()) {
                problems.add("unexpected extra message: " + cut(line));
            } else if (!expected.get(next).equals(line)) {
                problems.add("message " + next + " is " + cut(line) + ", expected " + cut(expected.get(next)));
            }
            next++;
            return true;
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public void whenWritable(Runnable callback) {
            callback.run();
        }
    }

    private static String cut(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }

    @Test
    void aMillionHostileLinesDeliverEveryValidLineExactlyOnceInOrderAndNothingElse() {
        FuzzStreams fuzz = new FuzzStreams(SEED, MAX);
        long lines = 0;
        long delivered = 0;
        long rejected = 0;
        int largestCarry = 0;
        for (int round = 0; round < ROUNDS; round++) {
            FuzzStreams.Stream[] streams = new FuzzStreams.Stream[CONNECTIONS];
            Checking[] ingests = new Checking[CONNECTIONS];
            LineSession[] sessions = new LineSession[CONNECTIONS];
            LineIngest[] ingest = new LineIngest[CONNECTIONS];
            RejectCounters rejects = new RejectCounters();
            int[][] cuts = new int[CONNECTIONS][];
            int[] done = new int[CONNECTIONS];
            int[] pos = new int[CONNECTIONS];
            for (int c = 0; c < CONNECTIONS; c++) {
                streams[c] = fuzz.next(LINES_PER_CONNECTION, c == round % CONNECTIONS && round % 5 == 0);
                ingests[c] = new Checking(streams[c].expected());
                ingest[c] = new LineIngest("fuzz", ingests[c], new LineDecoder(), rejects);
                sessions[c] = ingest[c].open("conn" + c, MAX);
                cuts[c] = fuzz.cuts(streams[c].bytes());
            }
            // round robin over the connections, one read each, as the I/O threads would interleave them
            boolean more = true;
            while (more) {
                more = false;
                for (int c = 0; c < CONNECTIONS; c++) {
                    if (done[c] < cuts[c].length) {
                        int end = cuts[c][done[c]++];
                        int r = sessions[c].receive(streams[c].bytes(), pos[c], end);
                        assertThat(r & LineSession.CLOSE).as("seed %d round %d conn %d", SEED, round, c).isZero();
                        pos[c] = end;
                        largestCarry = Math.max(largestCarry, sessions[c].carryCapacity());
                        more = true;
                    }
                }
            }
            for (int c = 0; c < CONNECTIONS; c++) {
                sessions[c].finish();
                assertThat(ingests[c].problems).as("seed %d round %d conn %d", SEED, round, c).isEmpty();
                assertThat(ingest[c].decoderFailures()).as("seed %d round %d conn %d: exceptions", SEED, round, c).isZero();
                assertThat(ingests[c].next).as("seed %d round %d conn %d: delivered", SEED, round, c)
                        .isEqualTo(streams[c].expected().size());
                lines += streams[c].lines();
                delivered += ingests[c].next;
            }
            rejected += rejects.total();
        }
        assertThat(lines).isGreaterThanOrEqualTo(1_000_000);
        assertThat(delivered).as("valid lines among them").isGreaterThan(300_000);
        assertThat(rejected).as("rejected lines among them").isGreaterThan(200_000);
        // bounded memory: a connection never holds more than one line's worth (the buffer doubles up to it)
        assertThat(largestCarry).isLessThanOrEqualTo(2 * (MAX + 1));
    }

    /** Found by this fuzz run: copying a long-form line's numbers exactly made Jackson throw. */
    @Test
    void aLongFormLineWithAnExponentJacksonRefusesIsRejectedNotThrown() {
        byte[] line = ("{\"v\":1,\"source\":\"a\",\"ts\":1,\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"m\",\"x\":-9223372E036854775808}}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        DecodeResult r = new LineDecoder().decode(line, 0, line.length);
        assertThat(r.isRejected()).isTrue();
        assertThat(r.detail()).contains("number out of range");
    }
}
