package io.signalbox.backend.file.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

class DescriptorLimitTest {
    private static final String LIMITS = """
            Limit                     Soft Limit           Hard Limit           Units
            Max cpu time              unlimited            unlimited            seconds
            Max processes             95374                95374                processes
            Max open files            20000                524288               files
            Max locked memory         8388608              8388608              bytes
            """;

    @Test
    void theSoftOpenFileLimitIsReadFromProcLimits() {
        assertThat(DescriptorLimit.parse(LIMITS)).hasValue(20000);
        assertThat(DescriptorLimit.parse(LIMITS.replace("20000  ", "unlimited"))).isEmpty();
        assertThat(DescriptorLimit.parse("Limit Soft Hard Units\n")).isEmpty();
    }

    @Test
    void autoIsThreeQuartersOfTheLimitLeftAfterTheReserveWithinBounds() {
        assertThat(DescriptorLimit.autoMaxOpenFiles(OptionalLong.of(20_000))).isEqualTo(14_232);
        assertThat(DescriptorLimit.autoMaxOpenFiles(OptionalLong.of(65_536))).isEqualTo(48_384);
        assertThat(DescriptorLimit.autoMaxOpenFiles(OptionalLong.of(1_024))).isEqualTo(DescriptorLimit.AUTO_MIN);
        assertThat(DescriptorLimit.autoMaxOpenFiles(OptionalLong.of(1_048_576))).isEqualTo(DescriptorLimit.AUTO_MAX);
        assertThat(DescriptorLimit.autoMaxOpenFiles(OptionalLong.empty())).isEqualTo(DescriptorLimit.AUTO_UNKNOWN);
    }

    @Test
    void onLinuxThisProcessHasALimit() {
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertThat(DescriptorLimit.ofThisProcess()).isPresent();
        }
    }

    @Test
    void outOfDescriptorsIsRecognisedByTheOperatingSystemsReason() {
        assertThat(DescriptorLimit.outOfDescriptors(new FileSystemException("/x", null, "Too many open files"))).isTrue();
        assertThat(DescriptorLimit.outOfDescriptors(new FileSystemException("/x", null, "Too many open files in system")))
                .isTrue();
        assertThat(DescriptorLimit.outOfDescriptors(new FileSystemException("/x", null, "No space left on device")))
                .isFalse();
        assertThat(DescriptorLimit.outOfDescriptors(new IOException((String) null))).isFalse();
    }
}
