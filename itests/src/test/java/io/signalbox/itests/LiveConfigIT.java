package io.signalbox.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.osgi.service.cm.Configuration;

/**
 * Routes changed through Config Admin while the sidecar runs (what fileinstall does for
 * {@code etc/io.signalbox.route-<name>.cfg}): valid changes take effect for the next batches,
 * invalid ones change nothing.
 */
class LiveConfigIT extends SidecarTest {
    private static final Pattern SEQ = Pattern.compile("\"msg\":\"live-(\\d+)\"");

    @Test
    void routeModifiedTwiceThenDeletedUnderTrafficSplitsTheStreamIntoSegmentsEachDeliveredOnceToTheBackendOfItsTime()
            throws Exception {
        Path a = fileBackend("live-a");
        Path b = fileBackend("live-b");
        // keeps the routing table non-empty when "live" is deleted (an empty table holds batches)
        sidecar.route("live-anchor", Map.of("source", "live-anchor-src", "backends", new String[] {"live-a"}));
        Configuration live = sidecar.route("live", Map.of("source", "live-src", "backends", new String[] {"live-a"}));
        awaitConfigurationEventsProcessed(dir.resolve("probe"), 0);
        long unroutedBefore = sidecar.unrouted();

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        Thread sender = new Thread(() -> sendUntilStopped(stop, sent), "live-sender");
        sender.start();
        try {
            Sidecar.waitUntil("first messages on a", () -> seqs(a).size() >= 200);
            Sidecar.update(live, Map.of("source", "live-src", "backends", new String[] {"live-b"}));
            Sidecar.waitUntil("messages follow the route to b", () -> seqs(b).size() >= 200);
            Sidecar.update(live, Map.of("source", "live-src", "backends", new String[] {"live-a"}));
            Sidecar.waitUntil("messages follow the route back to a", () -> {
                int lastB = seqs(b).stream().mapToInt(Integer::intValue).max().orElse(Integer.MAX_VALUE);
                return seqs(a).stream().filter(s -> s > lastB).count() >= 200;
            });
            live.delete();
            Sidecar.waitUntil("messages unrouted after the route is gone", () -> sidecar.unrouted() - unroutedBefore >= 200);
        } finally {
            stop.set(true);
            sender.join(TimeUnit.SECONDS.toMillis(30));
        }
        int total = sent.get();
        Sidecar.waitUntil("all " + total + " messages delivered or counted unrouted",
                () -> seqs(a).size() + seqs(b).size() + (sidecar.unrouted() - unroutedBefore) >= total);

        List<Integer> onA = seqs(a);
        List<Integer> onB = seqs(b);
        long unrouted = sidecar.unrouted() - unroutedBefore;
        assertThat(onA.size() + onB.size() + unrouted).as("a + b + unrouted").isEqualTo(total);
        // in sequence order, which backend took each message: a…a b…b a…a then nothing (unrouted)
        Map<Integer, String> where = new HashMap<>();
        onA.forEach(s -> assertThat(where.put(s, "a")).as("message %d written twice", s).isNull());
        onB.forEach(s -> assertThat(where.put(s, "b")).as("message %d written twice", s).isNull());
        List<String> segments = new ArrayList<>();
        for (int s = 0; s < total; s++) {
            String w = where.getOrDefault(s, "-");
            if (segments.isEmpty() || !segments.get(segments.size() - 1).equals(w)) {
                segments.add(w);
            }
        }
        assertThat(segments).as("backend of each message in send order, runs collapsed").containsExactly("a", "b", "a", "-");
        assertThat(onA).as("order on a").isSorted();
        assertThat(onB).as("order on b").isSorted();
    }

    @Test
    void invalidRouteModificationsAreRejectedAndMessagesKeepFlowingToTheOldRoute() throws Exception {
        Path a = fileBackend("keep-a");
        Path b = fileBackend("keep-b");
        Configuration route = sidecar.route("keep", Map.of("source", "keep-src", "backends", new String[] {"keep-a"}));
        sendBatch("keep-src", 0, 10);
        Sidecar.waitUntil("10 messages on a", () -> seqs(a).size() == 10);

        List<Map<String, Object>> invalid = List.of(
                // unknown key (a typo of "backends")
                Map.of("source", "keep-src", "backends", new String[] {"keep-b"}, "bakends", new String[] {"keep-b"}),
                // a types entry that is not a message type
                Map.of("source", "keep-src", "backends", new String[] {"keep-b"}, "types", new String[] {"evnt"}),
                // a bad type
                Map.of("source", "keep-src", "backends", new String[] {"keep-b"}, "priority", "high"),
                // no backends
                Map.of("source", "keep-src", "backends", new String[0]));
        int next = 10;
        int probe = 0;
        for (Map<String, Object> props : invalid) {
            Sidecar.update(route, props);
            awaitConfigurationEventsProcessed(b, probe++);
            sendBatch("keep-src", next, 10);
            next += 10;
            int expected = next;
            Sidecar.waitUntil(expected + " messages on a after " + props.keySet(), () -> seqs(a).size() == expected);
            assertThat(seqs(b)).as("nothing of keep-src on b after invalid %s", props.keySet()).isEmpty();
        }
        assertThat(seqs(a)).as("every message once, in order").hasSize(next).isSorted();
    }

    @Test
    void newRouteWithAnUnknownKeyIsRejectedAndTakesNoMessages() throws Exception {
        Path a = fileBackend("typo-a");
        Path probeDir = fileBackend("typo-probe");
        sidecar.route("typo", Map.of("source", "typo-src", "backends", new String[] {"typo-a"}, "priorty", 5));
        awaitConfigurationEventsProcessed(probeDir, 0);
        long unroutedBefore = sidecar.unrouted();

        sendBatch("typo-src", 0, 10);

        Sidecar.waitUntil("10 messages counted unrouted", () -> sidecar.unrouted() - unroutedBefore == 10);
        assertThat(seqs(a)).isEmpty();
    }

    // --- helpers -----------------------------------------------------------------------

    /**
     * A valid route for a probe source, applied after the configuration under test: once a
     * probe message arrives through it, Config Admin and SCR have processed the earlier update.
     */
    private void awaitConfigurationEventsProcessed(Path probeDir, int probe) throws Exception {
        String name = "probe" + probe + "x" + System.nanoTime();
        String backend = "probe-" + name;
        Path out = probeDir.resolve(name);
        sidecar.fileBackend(backend, out);
        sidecar.route(name, Map.of("source", name + "-src", "backends", new String[] {backend}));
        // error events are flushed at once
        sidecar.sendUntilWritten(out, name + "-src",
                n -> Sidecar.event(name + "-src", "probe", n).replace("\"info\"", "\"error\""));
    }

    private void sendBatch(String src, int from, int count) throws IOException {
        String[] lines = new String[count];
        for (int i = 0; i < count; i++) {
            lines[i] = Sidecar.event(src, "live", from + i);
        }
        sidecar.send(lines);
    }

    /** About 2,000 messages a second from live-src over one connection, in sequence order. */
    private void sendUntilStopped(AtomicBoolean stop, AtomicInteger sent) {
        try (Socket s = new Socket("127.0.0.1", sidecar.port())) {
            OutputStream out = s.getOutputStream();
            int seq = 0;
            while (!stop.get()) {
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < 20; i++) {
                    b.append(Sidecar.event("live-src", "live", seq++)).append('\n');
                }
                out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
                sent.set(seq);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
        } catch (IOException e) {
            throw new IllegalStateException("sender failed after " + sent.get() + " messages", e);
        }
    }

    private static List<Integer> seqs(Path root) {
        List<Integer> out = new ArrayList<>();
        for (String line : Sidecar.lines(root)) {
            Matcher m = SEQ.matcher(line);
            if (m.find()) {
                out.add(Integer.parseInt(m.group(1)));
            }
        }
        return out;
    }
}
