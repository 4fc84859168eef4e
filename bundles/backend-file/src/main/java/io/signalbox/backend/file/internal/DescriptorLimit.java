package io.signalbox.backend.file.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's open-file limit and the {@code max.open.files} it allows when the setting is 0
 * (auto). One file per source is the default layout, so a sidecar with thousands of sources needs
 * thousands of open files: with fewer, a round-robin of sources misses the least-recently-used
 * cache on every batch (close, reopen, stat: measured at 11 % of the few-sources rate with 10,000
 * sources and 1,000 files). The JVM raises its soft limit to the hard one at start, so the limit
 * read here is usually the hard limit of the shell or of the systemd unit ({@code LimitNOFILE}).
 */
final class DescriptorLimit {
    private static final Logger LOG = LoggerFactory.getLogger(DescriptorLimit.class);

    /** Descriptors left for everything else: sockets, jars, spools, other backends. */
    static final long RESERVED = 1024;
    static final int AUTO_MIN = 256;
    static final int AUTO_MAX = 65_536;
    /** Without a readable limit (not Linux): the old fixed default. */
    static final int AUTO_UNKNOWN = 1000;

    private DescriptorLimit() {
    }

    /** {@code max.open.files} for auto: 3/4 of what the limit leaves after {@link #RESERVED}, within 256..65,536. */
    static int autoMaxOpenFiles(OptionalLong limit) {
        if (limit.isEmpty()) {
            return AUTO_UNKNOWN;
        }
        long usable = (limit.getAsLong() - RESERVED) * 3 / 4;
        return (int) Math.max(AUTO_MIN, Math.min(AUTO_MAX, usable));
    }

    /** The soft "Max open files" of this process, from /proc/self/limits; empty if it cannot be read. */
    static OptionalLong ofThisProcess() {
        Path limits = Path.of("/proc/self/limits");
        if (!Files.isReadable(limits)) {
            return OptionalLong.empty();
        }
        try {
            return parse(Files.readString(limits, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            LOG.warn("Cannot read the open-file limit from {}; max.open.files=0 means {}", limits, AUTO_UNKNOWN, e);
            return OptionalLong.empty();
        }
    }

    /** The soft limit in the "Max open files" line of a /proc/PID/limits text; empty for "unlimited" or none. */
    static OptionalLong parse(String limitsText) {
        for (String line : limitsText.split("\n")) {
            if (line.startsWith("Max open files")) {
                String[] words = line.substring("Max open files".length()).trim().split("\\s+");
                if (words.length > 0 && words[0].chars().allMatch(Character::isDigit) && !words[0].isEmpty()) {
                    return OptionalLong.of(Long.parseLong(words[0]));
                }
                return OptionalLong.empty();
            }
        }
        return OptionalLong.empty();
    }

    /** Whether {@code e} says the process (EMFILE) or the system (ENFILE) is out of file descriptors. */
    static boolean outOfDescriptors(IOException e) {
        String reason = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
        return reason != null && reason.contains("Too many open files");
    }
}
