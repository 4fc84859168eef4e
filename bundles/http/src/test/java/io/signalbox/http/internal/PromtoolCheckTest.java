package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.prometheus.metrics.expositionformats.ExpositionFormats;

/**
 * Prometheus' own linter on a real /metrics answer: {@code promtool check metrics} (Debian package
 * {@code prometheus}; .ci/run installs it). Skipped, saying so, only where promtool is not installed.
 */
class PromtoolCheckTest {
    @TempDir
    Path dir;

    static Optional<Path> promtool() {
        String env = System.getenv("PROMTOOL");
        if (env != null && Files.isExecutable(Path.of(env))) {
            return Optional.of(Path.of(env));
        }
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(d, "promtool");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Test
    void promtoolFindsNoProblemInTheMetricsOutput() throws Exception {
        Optional<Path> promtool = promtool();
        Assumptions.assumeTrue(promtool.isPresent(),
                "SKIPPED: promtool is not installed (apt-get install prometheus; .ci/run installs it)");
        SidecarServices services = new SidecarServices();
        MetricsServletTest.bindTypicalSources(services);
        MetricsServlet servlet = new MetricsServlet(services);
        Path metrics = dir.resolve("metrics.txt");
        try (var out = Files.newOutputStream(metrics)) {
            ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, servlet.scrape());
        }
        assertThat(Files.readString(metrics)).contains("signalbox_backend_latency_seconds_bucket",
                "signalbox_messages_received_total", "jvm_memory_used_bytes");

        Result r = run(promtool.get(), metrics);
        assertThat(r.output).as("promtool check metrics said").isEmpty();
        assertThat(r.exit).as("promtool exit code; output: %s", r.output).isZero();
    }

    @Test
    void promtoolWouldCatchAMislabelledSeries() throws Exception {
        Optional<Path> promtool = promtool();
        Assumptions.assumeTrue(promtool.isPresent(),
                "SKIPPED: promtool is not installed (apt-get install prometheus; .ci/run installs it)");
        Path metrics = dir.resolve("bad.txt");
        Files.writeString(metrics, "# HELP x_total h\n# TYPE x_total gauge\nx_total 1\n");
        Result r = run(promtool.get(), metrics);
        assertThat(r.exit).isNotZero();
        assertThat(r.output).contains("x_total");
    }

    record Result(int exit, String output) {
    }

    static Result run(Path promtool, Path metrics) throws IOException, InterruptedException {
        Path output = metrics.resolveSibling("promtool.out");
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(metrics.toFile())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("promtool check metrics did not finish within 60 s");
        }
        return new Result(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8).trim());
    }
}
