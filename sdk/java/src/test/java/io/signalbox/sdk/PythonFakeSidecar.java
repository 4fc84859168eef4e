package io.signalbox.sdk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code sdk/conformance/fake_sidecar.py} run with python3 as a separate process: the shared fake
 * server all three SDKs use. Stop ends the process (SIGTERM); start runs a new one on the same
 * port, appending to the same output file.
 */
final class PythonFakeSidecar implements FakeSidecar {
    private final Path script;
    private final Path dir;
    private final Path out;
    private int dropAfter;
    private int port;
    private Process process;
    private int starts;

    private final List<String> extra = new ArrayList<>();

    /** More arguments of fake_sidecar.py ({@code --unix PATH}, {@code --tls-cert F}, {@code --secret S}, …); returns this. */
    PythonFakeSidecar with(String... args) {
        extra.addAll(List.of(args));
        return this;
    }

    PythonFakeSidecar(Path script, Path dir, int dropAfter) {
        this.script = script;
        this.dir = dir;
        this.out = dir.resolve("lines.ldjson");
        this.dropAfter = dropAfter;
    }

    /** Whether python3 runs here and the shared script is there. */
    static boolean available(Path script) {
        if (!Files.isRegularFile(script)) {
            return false;
        }
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void dropAfter(int lines) {
        dropAfter = lines;
    }

    @Override
    public PythonFakeSidecar start() throws IOException {
        Path portFile = dir.resolve("port-" + (++starts));
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString(), "--host", "127.0.0.1",
                "--port", Integer.toString(port), "--out", out.toString(), "--port-file", portFile.toString()));
        if (dropAfter > 0) {
            cmd.add("--drop-after");
            cmd.add(Integer.toString(dropAfter));
        }
        cmd.addAll(extra);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("fake-sidecar-" + starts + ".out").toFile()).start();
        if (!Poll.until(Duration.ofSeconds(30), () -> Files.exists(portFile) || !process.isAlive())
                || !Files.exists(portFile)) {
            throw new IllegalStateException("fake_sidecar.py did not start: "
                    + Files.readString(dir.resolve("fake-sidecar-" + starts + ".out")));
        }
        port = Integer.parseInt(Files.readString(portFile, StandardCharsets.UTF_8).strip());
        return this;
    }

    @Override
    public void stop() throws IOException {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public List<String> lines() {
        try {
            if (!Files.exists(out)) {
                return List.of();
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            // a line still being appended is not complete yet
            int end = text.lastIndexOf('\n');
            return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n", -1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
