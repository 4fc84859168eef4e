package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.RateLimitedLog;

/**
 * Gzips the files a backend rotated away ({@code compress.rotated=true}), one after the other on
 * their own thread, so that neither writers nor fsyncs wait for it; each {@code .gz} is forced to
 * disk before it replaces its file unless {@code fsync=never}. Thread-safe.
 */
final class Compressor {
    private static final Logger LOG = LoggerFactory.getLogger(Compressor.class);

    private final String name;
    private final FileSettings settings;
    /** One thread, shut down by {@link #close}. */
    private final ExecutorService executor;
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    /** Files queued or being compressed. */
    private final Set<Path> running = ConcurrentHashMap.newKeySet();

    Compressor(String name, FileSettings settings, ExecutorService executor) {
        this.name = name;
        this.settings = settings;
        this.executor = executor;
    }

    /** Compresses {@code file} (closed, never written again) in the background, if enabled. */
    void submit(Path file) {
        if (!settings.compressRotated()) {
            return;
        }
        running.add(file);
        try {
            executor.execute(() -> {
                try {
                    Path gz = Gzip.compress(file, settings.fsync() != FsyncPolicy.NEVER);
                    LOG.debug("File backend \"{}\": compressed {} to {}", name, file, gz);
                } catch (IOException | RuntimeException e) {
                    rateLimited.error("gzip", "File backend \"{}\": could not compress {}; left as is", name, file, e);
                } finally {
                    running.remove(file);
                }
            });
        } catch (RejectedExecutionException e) {
            running.remove(file);
            LOG.warn("File backend \"{}\": shutting down, {} is left uncompressed", name, file);
        }
    }

    /** Whether {@code file} is queued or being compressed (so it must not be appended to). */
    boolean isCompressing(Path file) {
        return running.contains(file);
    }

    /** Finishes the compressions submitted so far (interrupted after 60 s); later ones are refused. */
    void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("File backend \"{}\": compression still running after 60 s; interrupting it", name);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
