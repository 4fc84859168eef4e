package io.signalbox.routing.internal;

import static io.signalbox.routing.internal.TestSupport.engineConfig;
import static io.signalbox.routing.internal.TestSupport.map;
import static io.signalbox.routing.internal.TestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.signalbox.api.ConfigCheck;

class RoutingSettingsTest {
    private static String rejection(Object... keyValues) {
        Map<String, Object> m = map(keyValues);
        return catchThrowableOfType(() -> RoutingSettings.of(engineConfig(m), m),
                ConfigCheck.Rejected.class).getMessage();
    }

    @Test
    void defaultsAreThoseDocumented() {
        RoutingSettings s = settings();
        assertThat(s.drainTimeoutMillis()).isEqualTo(30_000);
        assertThat(s.retryInitialMillis()).isEqualTo(100);
        assertThat(s.retryMaxMillis()).isEqualTo(30_000);
        assertThat(s.spoolDir()).isEqualTo(Path.of("data/spool"));
        assertThat(s.spoolMaxBytes()).isEqualTo(512L << 20);
        assertThat(s.spoolSegmentBytes()).isEqualTo(16L << 20);
        assertThat(s.spoolFsync()).isEqualTo(Spool.Fsync.INTERVAL);
        assertThat(s.spoolFsyncIntervalMillis()).isEqualTo(1000);
        assertThat(s.queueMessages()).isEqualTo(2000);
        assertThat(s.spillAfterMillis()).isEqualTo(1000);
        assertThat(s.breakerFailures()).isEqualTo(5);
        assertThat(s.breakerErrorRate()).isEqualTo(0.5);
        assertThat(s.breakerWindow()).isEqualTo(20);
        assertThat(s.breakerOpenMillis()).isEqualTo(10_000);
        assertThat(s.replayRate()).isEqualTo(20_000);
        assertThat(s.deadLetterDir()).isEqualTo(Path.of("data/deadletter"));
    }

    @Test
    void valuesAreReadAsConfigured() {
        RoutingSettings s = settings("spool.fsync", "\"always\"", "spool.max.mb", 8, "spool.segment.mb", 8,
                "breaker.error.rate", 0, "replay.rate", 0, "channel.spill.after.ms", 0, "drain.timeout.seconds", 0);
        assertThat(s.spoolFsync()).isEqualTo(Spool.Fsync.ALWAYS);
        assertThat(s.spoolMaxBytes()).isEqualTo(s.spoolSegmentBytes()).isEqualTo(8L << 20);
        assertThat(s.breakerErrorRate()).isZero();
        assertThat(s.replayRate()).isZero();
        assertThat(s.spillAfterMillis()).isZero();
        assertThat(s.drainTimeoutMillis()).isZero();
    }

    @Test
    void aValueOfTheWrongTypeIsRejectedWithTheKey() {
        assertThat(rejection("retry.max.ms", "soon")).contains("'retry.max.ms' = 'soon' is not a valid long");
    }

    @Test
    void everyValueOutOfRangeIsNamedAtOnce() {
        assertThat(rejection("retry.initial.ms", "0", "spool.max.mb", "8", "spool.segment.mb", "16",
                "drain.timeout.seconds", "-1", "retry.max.ms", 0))
                .contains("'drain.timeout.seconds' must be >= 0, is -1", "'retry.initial.ms' must be >= 1, is 0",
                        "'retry.max.ms' must be >= 1, is 0", "'spool.segment.mb' must be 1..8, is 16");
        assertThat(rejection("spool.fsync", "sometimes", "spool.fsync.interval.ms", 0, "channel.queue.messages", 0,
                "breaker.failures", 0, "breaker.open.ms", 0, "replay.rate", -1, "deadletter.dir", " ",
                "breaker.error.rate", 1.5, "breaker.window", 65, "channel.spill.after.ms", -1, "spool.dir", ""))
                .contains("'spool.fsync' must be one of always, interval, never, is \"sometimes\"",
                        "'spool.fsync.interval.ms' must be >= 1, is 0", "'channel.queue.messages' must be >= 1, is 0",
                        "'breaker.failures' must be >= 1, is 0", "'breaker.open.ms' must be >= 1, is 0",
                        "'replay.rate' must be >= 0, is -1", "'deadletter.dir' is required, e.g. deadletter.dir=",
                        "'spool.dir' is required, e.g. spool.dir=", "'breaker.error.rate' must be 0..1, is 1.5",
                        "'breaker.window' must be 2..64, is 65", "'channel.spill.after.ms' must be >= 0, is -1");
    }

    @Test
    void theMaximumRetryDelayIsNotBelowTheFirst() {
        assertThat(rejection("retry.initial.ms", 500, "retry.max.ms", 100))
                .contains("'retry.max.ms' must be >= 500, is 100");
    }

    @Test
    void aSegmentIsComparedWithTheSpoolOnlyIfTheSpoolSizeIsValid() {
        assertThat(rejection("spool.max.mb", 0, "spool.segment.mb", 16))
                .contains("'spool.max.mb' must be 1..1073741824, is 0").doesNotContain("spool.segment.mb");
    }

    @Test
    void theLogLineNamesEverySettingInTheWordsOfTheConfiguration() {
        assertThat(settings().toString()).startsWith("drain.timeout.seconds=30 retry.initial.ms=100 retry.max.ms=30000")
                .contains(" spool.max.mb=512 spool.segment.mb=16 spool.fsync=interval ", " breaker.window=20 ",
                        " replay.rate=20000 deadletter.dir=");
    }

    @Test
    void unknownKeysAreRejectedBeforeAnyValue() {
        assertThatThrownBy(() -> settings("spool.max.mbs", 10, "spool.max.mb", 0))
                .isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("unknown key 'spool.max.mbs' (did you mean 'spool.max.mb'?)");
    }
}
