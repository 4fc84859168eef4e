package io.signalbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The common delivery scenario of the conformance suite, against a fake sidecar that drops
 * connections and is down for a while: the shared {@code fake_sidecar.py} (run with python3) and
 * its in-test equivalent {@link LineServer}. Each message is an event whose {@code msg} is its
 * sequence number.
 */
class DeliveryScenarioTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path tempDir;

    private FakeSidecar sidecar;
    private Monitoring monitoring;

    @AfterEach
    void stopEverything() throws IOException {
        if (monitoring != null) {
            monitoring.close();
        }
        if (sidecar != null) {
            sidecar.stop();
        }
    }

    private FakeSidecar sidecar(String kind, int dropAfter) {
        if (kind.equals("python")) {
            Path script = ConformanceTest.conformanceDir().resolve("fake_sidecar.py");
            assumeTrue(PythonFakeSidecar.available(script), "python3 or " + script + " missing: the in-test LineServer variant covers this");
            return new PythonFakeSidecar(script, tempDir, dropAfter);
        }
        return new LineServer(dropAfter);
    }

    private Monitoring connect(int bufferSize, Duration heartbeat) {
        return Monitoring.builder().source("scenario").host("127.0.0.1").port(sidecar.port()).bufferSize(bufferSize)
                .heartbeatInterval(heartbeat).reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(200))
                .closeTimeout(Duration.ofSeconds(10)).closeOnShutdown(false).build();
    }

    /** Logs {@code from..to}, in chunks of 10, each written out before the next (steady traffic). */
    private void logPaced(int from, int to) {
        for (int i = from; i <= to; i++) {
            monitoring.logEvent("info", Integer.toString(i));
            if (i % 10 == 0) {
                assertThat(Poll.until(TIMEOUT, () -> monitoring.buffered() == 0)).as("written out up to %d", i).isTrue();
            }
        }
    }

    @ParameterizedTest(name = "{0} fake sidecar")
    @ValueSource(strings = {"java", "python"})
    void messagesLoggedWhileTheSidecarIsDownArriveInOrderAndOnlyInFlightLinesAreLostAtDrops(String kind) throws Exception {
        sidecar = sidecar(kind, 50).start();
        monitoring = connect(300, Duration.ofHours(1));

        logPaced(1, 100); // the sidecar drops the connection after every 50 lines (hello included)
        sidecar.stop();
        for (int i = 101; i <= 130; i++) {
            monitoring.logEvent("info", Integer.toString(i)); // while it is down
        }
        assertThat(monitoring.buffered()).as("held while down").isEqualTo(30);
        assertThat(Poll.until(TIMEOUT, () -> monitoring.state() == Monitoring.State.DISCONNECTED)).as("state").isTrue();
        sidecar.start();
        assertThat(Poll.until(TIMEOUT, () -> received().containsAll(range(101, 130))))
                .as("every message logged while down arrives once it is back; got %s", received()).isTrue();
        logPaced(131, 200);
        // a last connection without drops, so that goodbye is not lost in flight
        sidecar.stop();
        sidecar.dropAfter(0);
        sidecar.start();
        monitoring.close();
        assertThat(sidecar.awaitLine(l -> l.contains("\"type\":\"goodbye\""), TIMEOUT)).as("goodbye").isTrue();

        List<List<Integer>> connections = dataByConnection();
        List<Integer> all = connections.stream().flatMap(List::stream).toList();
        assertThat(all).as("strictly increasing: in order, never twice").isSorted().doesNotHaveDuplicates();
        assertThat(all).containsAll(range(101, 130));
        for (List<Integer> c : connections) {
            if (!c.isEmpty()) {
                assertThat(c).as("no gap within one connection: lines are lost only at a drop")
                        .isEqualTo(range(c.get(0), c.get(c.size() - 1)));
            }
        }
        assertThat(connections.size()).as("connections (the sidecar dropped several)").isGreaterThanOrEqualTo(4);
        // lines are written in chunks of 10, each chunk only after the one before was written out:
        // a drop loses at most the chunk in flight
        assertThat(200 - all.size()).as("lost in flight, %d connections", connections.size())
                .isLessThanOrEqualTo(10 * (connections.size() - 1));
        assertThat(monitoring.sent()).isEqualTo(200);
        assertThat(monitoring.dropped()).isZero();
        assertThat(lastOfType("goodbye")).containsEntry("sent", BigDecimal.valueOf(200)).containsEntry("dropped", BigDecimal.ZERO);
    }

    @ParameterizedTest(name = "{0} fake sidecar")
    @ValueSource(strings = {"java", "python"})
    void overflowWhileDownDropsExactlyTheExcessAndHeartbeatAndGoodbyeSaySo(String kind) throws Exception {
        sidecar = sidecar(kind, 0).start();
        monitoring = connect(20, Duration.ofMillis(100));
        for (int i = 1; i <= 5; i++) {
            monitoring.logEvent("info", Integer.toString(i));
        }
        assertThat(Poll.until(TIMEOUT, () -> received().size() == 5)).isTrue();

        sidecar.stop();
        for (int i = 6; i <= 55; i++) {
            monitoring.logEvent("info", Integer.toString(i)); // 50 while down, 20 fit
        }
        assertThat(monitoring.dropped()).as("exactly K - bound dropped").isEqualTo(30);
        assertThat(monitoring.buffered()).isEqualTo(20);
        assertThat(monitoring.state()).isEqualTo(Monitoring.State.OVERFLOW);

        sidecar.start();
        assertThat(Poll.until(TIMEOUT, () -> received().size() == 25)).as("got %s", received()).isTrue();
        assertThat(sidecar.awaitLine(l -> l.contains("\"type\":\"heartbeat\"") && l.contains("\"dropped\":30"), TIMEOUT))
                .as("a heartbeat reports the drops").isTrue();
        assertThat(Poll.until(TIMEOUT, () -> monitoring.state() == Monitoring.State.CONNECTED)).isTrue();
        monitoring.close();
        assertThat(sidecar.awaitLine(l -> l.contains("\"type\":\"goodbye\""), TIMEOUT)).isTrue();

        assertThat(received()).as("the first bound messages logged while down, in order").isEqualTo(range(1, 25));
        assertThat(lastOfType("goodbye")).containsEntry("sent", BigDecimal.valueOf(25)).containsEntry("dropped", BigDecimal.valueOf(30));
    }

    /** Sequence numbers of the events received, all connections. */
    private List<Integer> received() {
        return dataByConnection().stream().flatMap(List::stream).toList();
    }

    /** Sequence numbers per connection (each connection starts with hello); unparseable lines are skipped. */
    private List<List<Integer>> dataByConnection() {
        List<List<Integer>> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = sidecar.lines();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (String line : lines) {
            Map<String, Object> m;
            try {
                m = MiniJson.object(line);
            } catch (IllegalArgumentException partial) {
                continue; // the tail of a connection the server cut mid-line
            }
            if ("hello".equals(m.get("type")) || out.isEmpty()) {
                out.add(new ArrayList<>());
            }
            if ("event".equals(m.get("type"))) {
                @SuppressWarnings("unchecked")
                Map<String, Object> data = (Map<String, Object>) m.get("data");
                out.get(out.size() - 1).add(Integer.parseInt((String) data.get("msg")));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> lastOfType(String type) throws IOException {
        Map<String, Object> last = null;
        for (String line : sidecar.lines()) {
            if (line.contains("\"type\":\"" + type + "\"")) {
                last = MiniJson.object(line);
            }
        }
        assertThat(last).as("a %s line", type).isNotNull();
        return (Map<String, Object>) last.get("data");
    }

    private static List<Integer> range(int from, int to) {
        List<Integer> l = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            l.add(i);
        }
        return l;
    }
}
