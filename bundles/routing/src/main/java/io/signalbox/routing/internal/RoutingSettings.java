package io.signalbox.routing.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.signalbox.api.ConfigValues;

/**
 * The settings of the routing engine ({@value RoutingEngine#PID}), built and validated once
 * from its configuration by {@link #of}. The engine holds the settings in force in one volatile
 * reference; channels, their parts and spools read it whenever they need a value, so a change
 * applies at once (the two directories excepted: channels keep those they were created with).
 *
 * @param drainTimeoutMillis       on shutdown, how long the channels may keep writing
 * @param retryInitialMillis       first retry delay after a failed write
 * @param retryMaxMillis           longest retry delay
 * @param breakerFailures          consecutive failed writes that open a breaker
 * @param breakerErrorRate         share of failed writes among the last {@code breakerWindow} that opens it (0 = off)
 * @param breakerWindow            writes the error rate is measured over (2..64)
 * @param breakerOpenMillis        how long an open breaker waits before its probe
 * @param queueMessages            messages a channel holds in memory before batches go to its spool
 * @param spillAfterMillis         how long the queue must stay above {@code queueMessages} first
 * @param replayRate               messages per second replayed from a spool after an outage (0 = no limit)
 * @param spoolDir                 directory of the spools, one subdirectory per backend
 * @param spoolMaxBytes            largest spool of one backend
 * @param spoolSegmentBytes        size of one spool segment file
 * @param spoolFsync               when spooled records are forced to the device
 * @param spoolFsyncIntervalMillis for {@link Spool.Fsync#INTERVAL}: the longest a record stays unforced
 * @param deadLetterDir            directory of the dead-letter files, one subdirectory per backend
 * @param channelThreads           worker threads all channels' writers and spoolers share (fixed at start)
 * @param maxInFlight              batches a channel may have outstanding at an {@link io.signalbox.api.AsyncBackend}
 *                                 (1 = one at a time, as for every other backend)
 */
record RoutingSettings(long drainTimeoutMillis, long retryInitialMillis, long retryMaxMillis, int breakerFailures,
        double breakerErrorRate, int breakerWindow, long breakerOpenMillis, long queueMessages, long spillAfterMillis,
        long replayRate, Path spoolDir, long spoolMaxBytes, long spoolSegmentBytes, Spool.Fsync spoolFsync,
        long spoolFsyncIntervalMillis, Path deadLetterDir, int channelThreads, int maxInFlight) {

    private static final long MAX_SPOOL_MB = 1L << 30;
    private static final long MAX_SEGMENT_MB = 1024;

    /**
     * Checks a configuration as a whole (unknown keys, types, then every range) and builds its
     * settings.
     *
     * @throws io.signalbox.api.ConfigCheck.Rejected naming every problem
     */
    static RoutingSettings of(RoutingEngine.Config config, Map<String, ?> properties) {
        ConfigValues v = ConfigValues.of(RoutingEngine.Config.class, config, properties);
        long drainSeconds = v.atLeast("drain.timeout.seconds", config.drain_timeout_seconds(), 0);
        long retryInitial = v.atLeast("retry.initial.ms", config.retry_initial_ms(), 1);
        long retryMax = v.atLeast("retry.max.ms", config.retry_max_ms(), retryInitial);
        int breakerFailures = v.atLeast("breaker.failures", config.breaker_failures(), 1);
        double breakerErrorRate = v.range("breaker.error.rate", config.breaker_error_rate(), 0.0, 1.0);
        int breakerWindow = v.range("breaker.window", config.breaker_window(), 2, 64);
        long breakerOpen = v.atLeast("breaker.open.ms", config.breaker_open_ms(), 1);
        long queueMessages = v.atLeast("channel.queue.messages", config.channel_queue_messages(), 1);
        long spillAfter = v.atLeast("channel.spill.after.ms", config.channel_spill_after_ms(), 0);
        long replayRate = v.atLeast("replay.rate", config.replay_rate(), 0);
        Path spoolDir = path(v, "spool.dir", config.spool_dir(), "data/spool");
        long spoolMaxMb = v.range("spool.max.mb", config.spool_max_mb(), 1, MAX_SPOOL_MB);
        // a segment fits in the spool; compared with spool.max.mb only if that one is valid itself
        boolean maxValid = config.spool_max_mb() >= 1 && config.spool_max_mb() <= MAX_SPOOL_MB;
        long segmentMb = v.range("spool.segment.mb", config.spool_segment_mb(), 1,
                maxValid ? Math.min(MAX_SEGMENT_MB, spoolMaxMb) : MAX_SEGMENT_MB);
        String fsync = v.oneOf("spool.fsync", config.spool_fsync(), "always", "interval", "never");
        long fsyncInterval = v.atLeast("spool.fsync.interval.ms", config.spool_fsync_interval_ms(), 1);
        Path deadLetterDir = path(v, "deadletter.dir", config.deadletter_dir(), "data/deadletter");
        int channelThreads = v.range("channel.threads", config.channel_threads(), 1, 256);
        int maxInFlight = v.range("max.in.flight", config.max_in_flight(), 1, 64);
        v.done();
        return new RoutingSettings(TimeUnit.SECONDS.toMillis(drainSeconds), retryInitial, retryMax, breakerFailures,
                breakerErrorRate, breakerWindow, breakerOpen, queueMessages, spillAfter, replayRate, spoolDir,
                spoolMaxMb << 20, segmentMb << 20, Spool.Fsync.valueOf(fsync.toUpperCase(Locale.ROOT)), fsyncInterval,
                deadLetterDir, channelThreads, maxInFlight);
    }

    private static Path path(ConfigValues v, String key, String value, String example) {
        String text = v.required(key, value, example);
        return v.parse(() -> {
            try {
                return Paths.get(text);
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("'" + key + "' is not a path: " + e.getMessage(), e);
            }
        });
    }

    /** The settings in the words of the configuration, for the log. */
    @Override
    public String toString() {
        return "drain.timeout.seconds=" + drainTimeoutMillis / 1000 + " retry.initial.ms=" + retryInitialMillis
                + " retry.max.ms=" + retryMaxMillis + " spool.dir=" + spoolDir.toAbsolutePath()
                + " spool.max.mb=" + (spoolMaxBytes >> 20) + " spool.segment.mb=" + (spoolSegmentBytes >> 20)
                + " spool.fsync=" + spoolFsync.name().toLowerCase(Locale.ROOT)
                + " spool.fsync.interval.ms=" + spoolFsyncIntervalMillis + " channel.queue.messages=" + queueMessages
                + " channel.spill.after.ms=" + spillAfterMillis + " breaker.failures=" + breakerFailures
                + " breaker.error.rate=" + breakerErrorRate + " breaker.window=" + breakerWindow
                + " breaker.open.ms=" + breakerOpenMillis + " replay.rate=" + replayRate
                + " deadletter.dir=" + deadLetterDir.toAbsolutePath() + " channel.threads=" + channelThreads
                + " max.in.flight=" + maxInFlight;
    }
}
