package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * {@code bin/signalbox} bounds the heap by what the sidecar may hold (128 MiB + twice correlation's
 * in-flight budget queue.max.mb), picks the Parallel collector, scales the JIT's compile thresholds by
 * 3 (start-up) and has the JVM give freed native memory back once a second (-XX:TrimNativeHeapInterval,
 * on JVMs that know it), unless SIGNALBOX_JAVA_OPTS says otherwise; checked on the command line of the
 * running JVM.
 */
class JvmDefaultsIT extends InstallationTest {

    @Test
    void heapBoundFollowsTheInFlightBudgetAndSignalboxJavaOptsOverrideIt() throws Exception {
        List<String> shipped = startedWith(Map.of("SIGNALBOX_JAVA_OPTS", ""));
        assertThat(shipped)
                .contains("-Xmx192m", "-XX:+UseParallelGC", "-XX:+ExitOnOutOfMemoryError", "-XX:CompileThresholdScaling=3",
                        "-XX:TieredStopAtLevel=1");
        if (knowsTrimNativeHeapInterval(Runtime.version())) {
            assertThat(shipped).contains("-XX:TrimNativeHeapInterval=1000");
        } else {
            assertThat(shipped).noneMatch(arg -> arg.startsWith("-XX:TrimNativeHeapInterval"));
        }
        signalbox.stop();

        signalbox.configure("etc/io.signalbox.correlation.cfg", "queue.capacity=200000\nqueue.max.mb = 160\n");
        assertThat(startedWith(Map.of("SIGNALBOX_JAVA_OPTS", ""))).contains("-Xmx448m", "-XX:+UseParallelGC");
        signalbox.stop();

        List<String> own = startedWith(Map.of("SIGNALBOX_JAVA_OPTS", "-Xmx300m -XX:+UseSerialGC -XX:CompileThresholdScaling=1 -XX:TieredStopAtLevel=4"));
        assertThat(own).contains("-Xmx300m", "-XX:+UseSerialGC", "-XX:CompileThresholdScaling=1", "-XX:TieredStopAtLevel=4")
                .doesNotContain("-Xmx448m", "-XX:+UseParallelGC", "-XX:CompileThresholdScaling=3", "-XX:TieredStopAtLevel=1");
        signalbox.stop();

        // C2 back: -XX:-TieredCompilation (C2 alone) also replaces the C1-only default
        assertThat(startedWith(Map.of("SIGNALBOX_JAVA_OPTS", "-XX:-TieredCompilation")))
                .contains("-XX:-TieredCompilation").doesNotContain("-XX:TieredStopAtLevel=1");
        signalbox.stop();

        if (knowsTrimNativeHeapInterval(Runtime.version())) {
            List<String> noTrim = startedWith(Map.of("SIGNALBOX_JAVA_OPTS", "-XX:TrimNativeHeapInterval=0"));
            assertThat(noTrim).contains("-XX:TrimNativeHeapInterval=0").doesNotContain("-XX:TrimNativeHeapInterval=1000");
        }
    }

    /**
     * The JVMs with -XX:TrimNativeHeapInterval (JDK-8293114): 17.0.9+, 21.0.1+, 22+; the same rule as
     * bin/signalbox's jvm_has_trim_native_heap, for the JVM these tests run the distribution with.
     */
    private static boolean knowsTrimNativeHeapInterval(Runtime.Version v) {
        return v.feature() >= 22
                || v.feature() == 21 && (v.interim() > 0 || v.update() >= 1)
                || v.feature() == 17 && (v.interim() > 0 || v.update() >= 9);
    }

    /** Starts the sidecar with {@code env} and returns the running JVM's arguments. */
    private List<String> startedWith(Map<String, String> env) throws IOException, InterruptedException {
        Installation.Result start = signalbox.command("start", env);
        assertThat(start.exitCode()).as("%s", start).isZero();
        signalbox.awaitListening();
        long pid = signalbox.pid().orElseThrow();
        byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
        return Arrays.asList(new String(cmdline, StandardCharsets.UTF_8).split("\0"));
    }
}
