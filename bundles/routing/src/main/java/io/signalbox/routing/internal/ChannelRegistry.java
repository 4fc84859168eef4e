package io.signalbox.routing.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendNames;
import io.signalbox.api.BackendStatus;
import io.signalbox.api.MetricsSink;

/**
 * The channels of the engine, one per backend name, and the backends bound to them.
 *
 * <p>A channel is created on first use (a route names it, or a spool left by an earlier run is
 * found); it waits for its backend until one of that name ({@link BackendNames#of}) is bound.
 * When several backends of a name are bound, the most recent one is used, and the one before it
 * takes over when it goes. A channel no enabled route sends to, holding nothing in memory or in
 * its spool, is closed by the next {@link #sweep} (every {@value #SWEEP_SECONDS} s) and made
 * anew if a route names it again. Channels own no threads: their jobs run on one
 * {@link ChannelExecutor} of {@code channel.threads} workers.
 */
final class ChannelRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelRegistry.class);

    private final Supplier<RoutingSettings> settings;
    /** Fixed at activation: channels keep the directories they were created with. */
    private final Path spoolDir;
    private final Path deadLetterDir;
    static final long SWEEP_SECONDS = 30;

    private final Map<String, Channel> channels = new ConcurrentHashMap<>();
    private final ChannelExecutor executor;
    /** Channels found unused by the last sweep: closed by the next one if still unused. */
    private final Set<String> unusedSince = new HashSet<>();
    private final Object lock = new Object();
    // guarded by lock: every bound backend and its name, in bind order, and the kind of each name
    private final Map<Backend, String> bound = new IdentityHashMap<>();
    private final Map<String, List<Backend>> byName = new LinkedHashMap<>();
    private final Map<String, String> kinds = new HashMap<>();

    ChannelRegistry(Supplier<RoutingSettings> settings) {
        this.settings = settings;
        this.spoolDir = settings.get().spoolDir();
        this.deadLetterDir = settings.get().deadLetterDir();
        this.executor = new ChannelExecutor(settings.get().channelThreads());
    }

    /** Runs {@link #sweep} every {@value #SWEEP_SECONDS} s with the backends enabled routes send to. */
    void sweepEvery(Supplier<Set<String>> referenced) {
        executor.executor().scheduleWithFixedDelay(() -> sweep(referenced.get()), SWEEP_SECONDS, SWEEP_SECONDS,
                TimeUnit.SECONDS);
    }

    Path spoolDir() {
        return spoolDir;
    }

    Path deadLetterDir() {
        return deadLetterDir;
    }

    /** The channel of a backend name, created (and bound to a backend of that name) on first use. */
    Channel channel(String name) {
        Channel c = channels.get(name);
        if (c != null) {
            return c;
        }
        synchronized (lock) {
            c = channels.get(name);
            if (c == null) {
                String dir = SpoolFiles.directoryName(name);
                c = new Channel(name, settings, spoolDir.resolve(dir), deadLetterDir.resolve(dir), executor);
                List<Backend> same = byName.get(name);
                if (same != null && !same.isEmpty()) {
                    c.attach(same.get(same.size() - 1));
                }
                channels.put(name, c);
                c.start();
            }
            return c;
        }
    }

    /** Creates the channel of every backend that has a spool directory with segments in it. */
    void openExistingSpools() {
        if (!Files.isDirectory(spoolDir)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(spoolDir)) {
            for (Path d : dirs) {
                String dirName = d.getFileName().toString();
                if (!Files.isDirectory(d)) {
                    LOG.warn("ignoring {} in the spool directory: not a backend's spool (left as it is)", d);
                    continue;
                }
                if (!SpoolFiles.isDirectoryName(dirName)) {
                    LOG.warn("ignoring {} in the spool directory: not a name Signalbox gives a backend's spool, "
                            + "so nothing in it is replayed (left as it is)", d);
                    continue;
                }
                boolean hasSegments;
                try (DirectoryStream<Path> segs = Files.newDirectoryStream(d, "*" + SpoolFiles.SUFFIX)) {
                    hasSegments = segs.iterator().hasNext();
                }
                if (hasSegments) {
                    String name = SpoolFiles.backendName(dirName);
                    LOG.info("spool of backend {} found in {}: replayed when the backend is available", name, d);
                    channel(name);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("spool directory {} cannot be listed; spools left by a previous run are not replayed: {}",
                    spoolDir.toAbsolutePath(), e.toString(), e);
        }
    }

    // --- backends --------------------------------------------------------------------------

    /** Binds a backend service to the channel of its name (ignored, with a warning, without a name). */
    void bind(Backend backend, Map<String, ?> properties) {
        String name = BackendNames.of(properties);
        if (name == null) {
            LOG.warn("a backend service without a name ({} property, named factory configuration or fileinstall file) "
                    + "is ignored: {}", Backend.NAME, properties.get("service.pid"));
            return;
        }
        synchronized (lock) {
            bound.put(backend, name);
            Object kind = properties.get(Backend.KIND);
            if (kind != null) {
                kinds.put(name, kind.toString());
            }
            List<Backend> same = byName.computeIfAbsent(name, k -> new ArrayList<>());
            same.add(backend);
            if (same.size() > 1) {
                LOG.warn("{} backends named {} are bound; the most recent one is used", same.size(), name);
            }
            Channel c = channels.get(name);
            if (c != null) {
                c.attach(backend);
            }
        }
        LOG.info("backend {} bound", name);
    }

    /** Unbinds a backend; waits (up to {@code drain.timeout.seconds}, at least 1 s) for a write to it in progress. */
    void unbind(Backend backend) {
        String name;
        Channel c;
        synchronized (lock) {
            name = bound.remove(backend);
            if (name == null) {
                return;
            }
            List<Backend> same = byName.get(name);
            same.remove(backend);
            Backend replacement = same.isEmpty() ? null : same.get(same.size() - 1);
            if (same.isEmpty()) {
                byName.remove(name);
            }
            c = channels.get(name);
            if (c != null) {
                c.detach(backend, replacement);
            }
        }
        long timeout = Math.max(settings.get().drainTimeoutMillis(), 1000);
        if (c != null && !c.awaitNotWritingWith(backend, timeout)) {
            LOG.warn("backend {} unbound while a write to it was still running after {} ms", name, timeout);
        }
        LOG.info("backend {} unbound{}", name, c != null && c.waitingForBackend()
                ? "; what is queued for it goes to its spool (" + (c.queuedMessages() + c.spoolMessages())
                        + " messages wait for it)" : "");
    }

    /** The service properties of a bound backend changed: rebound if its name did. */
    void updated(Backend backend, Map<String, ?> properties) {
        String now = BackendNames.of(properties);
        String before;
        synchronized (lock) {
            before = bound.get(backend);
        }
        if (now != null && now.equals(before)) {
            return;
        }
        unbind(backend);
        bind(backend, properties);
    }

    /**
     * Closes the channels that were unused at the last sweep and still are: no enabled route
     * sends to them ({@code referenced}), nothing queued, nothing spooled. A route naming one
     * again gets a new channel (a batch offered to the closed one meanwhile is re-offered to
     * the new one by the dispatcher).
     *
     * @return the channels closed
     */
    int sweep(Set<String> referenced) {
        List<Channel> closing = new ArrayList<>();
        synchronized (lock) {
            Set<String> unusedNow = new HashSet<>();
            for (Channel c : channels.values()) {
                if (!referenced.contains(c.name()) && c.queuedMessages() == 0 && c.spoolMessages() == 0) {
                    unusedNow.add(c.name());
                }
            }
            for (String name : unusedNow) {
                if (unusedSince.contains(name)) {
                    closing.add(channels.remove(name));
                }
            }
            unusedSince.clear();
            unusedSince.addAll(unusedNow);
            unusedSince.removeIf(n -> !channels.containsKey(n));
        }
        for (Channel c : closing) {
            long unspooled = c.stop(); // nothing was queued; a batch that raced in is spooled or re-offered
            LOG.info("channel of backend {} closed: no enabled route sends to it and it holds nothing{}", c.name(),
                    unspooled > 0 ? " (" + unspooled + " messages that raced in could not be spooled)" : "");
        }
        return closing.size();
    }

    /** The channels open now (for tests and the thread-bound benchmark). */
    int channelCount() {
        return channels.size();
    }

    /** Worker threads started so far (at most {@code channel.threads}). */
    int workerThreads() {
        return executor.threads();
    }

    // --- state -----------------------------------------------------------------------------

    /** The delivery state of every channel, by name. */
    List<BackendStatus> statuses() {
        Map<String, String> kindsNow = new HashMap<>();
        synchronized (lock) {
            for (Map.Entry<String, String> e : kinds.entrySet()) {
                if (byName.containsKey(e.getKey())) {
                    kindsNow.put(e.getKey(), e.getValue());
                }
            }
        }
        List<BackendStatus> out = new ArrayList<>();
        for (Channel c : new TreeMap<>(channels).values()) {
            out.add(c.status(kindsNow.get(c.name())));
        }
        return out;
    }

    /** The series of every channel, by name; {@code referenced}: the backends enabled routes send to. */
    void collect(MetricsSink sink, Set<String> referenced) {
        for (Channel c : new TreeMap<>(channels).values()) {
            c.collect(sink, referenced.contains(c.name()));
        }
    }

    /**
     * Lets every channel write what it holds for up to {@code drain.timeout.seconds}, then stops
     * them; what is left goes to their spools.
     *
     * @return the messages that could not be spooled either
     */
    long drainAndStop() {
        List<Channel> all = new ArrayList<>(channels.values());
        long drainMillis = settings.get().drainTimeoutMillis();
        long queued = 0;
        for (Channel c : all) {
            queued += c.queuedMessages();
            c.beginDrain();
        }
        LOG.info("routing stopping: draining {} messages from {} channels (up to {} s)", queued, all.size(),
                drainMillis / 1000);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        for (Channel c : all) {
            c.awaitDrained(deadline);
        }
        long lost = 0;
        for (Channel c : all) {
            long spooledBefore = c.spooledMessages();
            lost += c.stop();
            if (c.spoolMessages() > 0) {
                LOG.info("backend {}: {} messages stay in its spool and are replayed when it is available "
                        + "(also after a restart); {} of them were spooled during the shutdown ({})", c.name(),
                        c.spoolMessages(), c.spooledMessages() - spooledBefore, c.waitingForBackend()
                                ? "backend not available" : c.breakerState() == CircuitBreaker.State.OPEN
                                        ? "circuit breaker open"
                                        : "not delivered within drain.timeout.seconds=" + drainMillis / 1000);
            }
        }
        executor.shutdown();
        return lost;
    }
}
