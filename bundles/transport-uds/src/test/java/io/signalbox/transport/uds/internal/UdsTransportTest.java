package io.signalbox.transport.uds.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.util.converter.Converters;

import io.signalbox.api.FakeIngest;
import io.signalbox.api.MetricSamples;
import io.signalbox.protocol.AuthStats;

/** The transport on real socket files in a temporary folder. */
class UdsTransportTest {
    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final String SECRET = "uds-secret-for-tests-0123456789";

    @TempDir
    Path dir;

    private final FakeIngest ingest = new FakeIngest();
    private final List<SocketChannel> channels = new ArrayList<>();
    private UdsTransport transport;
    private boolean stopped;

    private UdsTransport start(Map<String, Object> overrides) throws IOException {
        Map<String, Object> props = new HashMap<>();
        props.put("path", dir.resolve("signalbox.sock").toString());
        props.putAll(overrides);
        transport = new UdsTransport(Converters.standardConverter().convert(props).to(UdsTransport.Config.class),
                props, ingest);
        return transport;
    }

    @AfterEach
    void stop() throws IOException {
        for (SocketChannel c : channels) {
            c.close();
        }
        if (transport != null && !stopped) {
            transport.deactivate();
        }
        ingest.close();
    }

    private SocketChannel connect() throws IOException {
        SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(transport.path()));
        channels.add(c);
        return c;
    }

    private static void write(SocketChannel c, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /** Everything the server wrote until it closed its side. */
    private static String answer(SocketChannel c) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(1024);
        while (c.read(b) >= 0) {
            out.write(b.array(), 0, b.position());
            b.clear();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out after " + DEADLINE.toSeconds() + " s waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    static String event(String src, long i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (1_700_000_000_000L + i)
                + ",\"type\":\"event\",\"data\":{\"level\":\"info\",\"msg\":\"message " + i + "\"}}";
    }

    private static String hello(String src, String token) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":1,\"type\":\"hello\",\"data\":{\"sdk\":\"test\",\"version\":\"1\""
                + ",\"auth\":1,\"token\":\"" + token + "\"}}";
    }

    private long stat(String name, String... labels) {
        return (long) MetricSamples.of(transport).value(name, labels);
    }

    @Test
    void linesArriveInOrderFromSeveralConnectionsAndTheSocketHasTheConfiguredMode() throws Exception {
        start(Map.of("mode", "0660"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(transport.path())))
                .isEqualTo("rw-rw----");
        assertThat(SocketFile.isSocket(transport.path())).isTrue();
        SocketChannel a = connect();
        SocketChannel b = connect();
        StringBuilder as = new StringBuilder();
        StringBuilder bs = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            as.append(event("a", i)).append('\n');
            bs.append(event("b", i)).append("\r\n");
        }

        write(a, as.toString());
        write(b, bs.toString());

        waitUntil("2000 messages", () -> ingest.count() == 2000);
        List<String> fromA = ingest.lines().stream().filter(l -> l.contains("\"src\":\"a\"")).toList();
        assertThat(fromA).hasSize(1000).first().isEqualTo(event("a", 0));
        assertThat(fromA.get(999)).isEqualTo(event("a", 999));
        assertThat(stat("signalbox_transport_messages_received_total", "transport", "uds")).isEqualTo(2000);
    }

    @Test
    void theModeIsConfigurable() throws Exception {
        start(Map.of("mode", "0600"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(transport.path())))
                .isEqualTo("rw-------");
    }

    @Test
    void aStaleSocketFileFromACrashIsReplaced() throws Exception {
        Path path = dir.resolve("signalbox.sock");
        ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        crashed.bind(UnixDomainSocketAddress.of(path));
        crashed.close(); // the file stays, as after a crash
        assertThat(SocketFile.isSocket(path)).isTrue();

        start(Map.of());
        write(connect(), event("after-crash", 1) + "\n");

        waitUntil("the message", () -> ingest.count() == 1);
    }

    @Test
    void aPathThatIsNotASocketIsNeverDeleted() throws Exception {
        Path path = dir.resolve("signalbox.sock");
        Files.writeString(path, "precious");

        assertThatThrownBy(() -> start(Map.of())).hasMessageContaining("exists and is not a socket");

        assertThat(Files.readString(path)).isEqualTo("precious");
        Path folder = Files.createDirectory(dir.resolve("folder.sock"));
        assertThatThrownBy(() -> start(Map.of("path", folder.toString()))).hasMessageContaining("is not a socket");
        assertThat(Files.isDirectory(folder)).isTrue();
    }

    @Test
    void aSocketAnotherProcessAcceptsOnIsLeftAlone() throws Exception {
        Path path = dir.resolve("signalbox.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(path));
            assertThatThrownBy(() -> start(Map.of())).hasMessageContaining("another process accepts on");
            assertThat(SocketFile.isSocket(path)).isTrue();
        }
    }

    @Test
    void withASecretOnlyAnAuthenticatedConnectionIsRead() throws Exception {
        start(Map.of("auth.secret", SECRET));
        SocketChannel bad = connect();
        SocketChannel good = connect();

        write(bad, event("app", 1) + "\n");
        write(good, hello("app", SECRET) + "\n" + event("app", 2) + "\n");

        assertThat(answer(bad)).startsWith("{\"error\":\"unauthorized\",\"reason\":\"no_hello\"");
        waitUntil("the authorised message", () -> ingest.count() == 1);
        assertThat(ingest.lines()).containsExactly(event("app", 2));
        assertThat(stat(AuthStats.SERIES, "transport", "uds", "reason", "no_hello")).isEqualTo(1);
    }

    @Test
    void thePeersUidIsKeptAndReportedPerSource() throws Exception {
        start(Map.of());
        write(connect(), event("who-am-i", 1) + "\n");
        waitUntil("the message", () -> ingest.count() == 1);

        Path mine = Files.createFile(dir.resolve("mine"));
        long myUid = ((Number) Files.getAttribute(mine, "unix:uid")).longValue();
        long myGid = ((Number) Files.getAttribute(mine, "unix:gid")).longValue();
        waitUntil("the peer recorded", () -> MetricSamples.of(transport).all().stream()
                .anyMatch(s -> s.name().equals("signalbox_uds_peer_uid")));
        assertThat(stat("signalbox_uds_peer_uid", "source", "who-am-i")).isEqualTo(myUid);
        assertThat(stat("signalbox_uds_peer_gid", "source", "who-am-i")).isEqualTo(myGid);
        assertThat(transport.connections()).singleElement()
                .satisfies(c -> assertThat(c.peer.uid()).isEqualTo(myUid));
    }

    @Test
    void connectionsAboveTheLimitAreToldAndClosed() throws Exception {
        start(Map.of("max.connections", 1));
        SocketChannel first = connect();
        waitUntil("1 open", () -> transport.open() == 1);

        SocketChannel second = connect();

        assertThat(answer(second)).isEqualTo("{\"error\":\"refused\",\"reason\":\"max_connections\","
                + "\"detail\":\"max.connections=1 reached, try again later\"}\n");
        write(first, event("first", 1) + "\n");
        waitUntil("the first connection still works", () -> ingest.count() == 1);
        assertThat(stat(UdsStats.REFUSED)).isEqualTo(1);
    }

    @Test
    void deactivateDeliversWhatWasSentAndRemovesTheSocketFile() throws Exception {
        start(Map.of());
        SocketChannel c = connect();
        write(c, event("x", 1) + "\n" + event("x", 2)); // the last one without newline
        c.shutdownOutput();
        waitUntil("the first message", () -> ingest.count() >= 1);

        transport.deactivate();
        stopped = true;

        assertThat(ingest.lines()).containsExactly(event("x", 1), event("x", 2));
        assertThat(Files.exists(dir.resolve("signalbox.sock"))).isFalse();
    }

    @Test
    void badModeIsRejected() {
        assertThatThrownBy(() -> start(Map.of("mode", "rw-rw----"))).hasMessageContaining("'mode' must be octal");
        assertThatThrownBy(() -> start(Map.of("mode", "0060"))).hasMessageContaining("owner read and write");
    }

    @Test
    void aMovedPathIsBoundFirstAndTheOldFileRemoved() throws Exception {
        start(Map.of());
        Path old = transport.path();
        Map<String, Object> props = new HashMap<>();
        props.put("path", dir.resolve("sub/other.sock").toString());

        assertThat(transport.reconfigure(Converters.standardConverter().convert(props).to(UdsTransport.Config.class),
                props)).isTrue();

        assertThat(Files.exists(old)).isFalse();
        write(connect(), event("moved", 1) + "\n");
        waitUntil("the message on the new path", () -> ingest.count() == 1);
    }

    @Test
    void atTheLimitTheConnectionThatDeliveredNothingLongestMakesRoom() throws Exception {
        start(Map.of("max.connections", 20, "evict.after.seconds", 0));
        List<SocketChannel> idle = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            idle.add(connect());
        }
        waitUntil("20 open", () -> transport.open() == 20);

        SocketChannel real = connect();
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            lines.append(event("real", i)).append('\n');
        }
        write(real, lines.toString());
        real.shutdownOutput();

        assertThat(answer(real)).isEmpty();
        waitUntil("every line", () -> ingest.count() == 1000);
        // the idle ones all delivered nothing; opened within the same millisecond they are equally
        // stale, so which one goes is not fixed: exactly one of them gets the line and is closed
        Map<SocketChannel, StringBuilder> got = new HashMap<>();
        List<SocketChannel> closed = new ArrayList<>();
        for (SocketChannel c : idle) {
            c.configureBlocking(false);
            got.put(c, new StringBuilder());
        }
        waitUntil("an idle connection evicted and closed", () -> {
            readWhatIsThere(idle, got, closed);
            return !closed.isEmpty();
        });
        Thread.sleep(200);
        readWhatIsThere(idle, got, closed);
        assertThat(closed).hasSize(1);
        assertThat(got.get(closed.get(0)).toString()).startsWith("{\"error\":\"refused\",\"reason\":\"evicted\"");
        assertThat(stat(UdsStats.EVICTED)).isEqualTo(1);
        assertThat(stat(UdsStats.REFUSED)).isZero();
    }

    /** Non-blocking: appends what each open channel has to read; a channel at its end goes to {@code closed}. */
    private static void readWhatIsThere(List<SocketChannel> channels, Map<SocketChannel, StringBuilder> got,
            List<SocketChannel> closed) {
        ByteBuffer b = ByteBuffer.allocate(1024);
        for (SocketChannel c : channels) {
            if (closed.contains(c)) {
                continue;
            }
            try {
                int n;
                while ((n = c.read(b)) > 0) {
                    got.get(c).append(new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
                    b.clear();
                }
                if (n < 0) {
                    closed.add(c);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
