package io.signalbox.distribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private copy of the assembled distribution in a temp folder, driven through its own
 * {@code bin/signalbox} as a separate process, as an operator would.
 */
final class Installation {
    private static final Logger LOG = LoggerFactory.getLogger(Installation.class);

    /** How long one {@code bin/signalbox} command may take ({@code stop} waits up to 60 s itself). */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private static final String TRANSPORT_CFG = "etc/io.signalbox.transport.tcp.cfg";
    private static final String HTTP_CFG = "etc/io.signalbox.http.cfg";
    private static final Pattern PORT_LINE = Pattern.compile("(?m)^port=\\d+$");

    private final Path home;
    private final Path workDir;
    private final int port;
    private final int httpPort;
    private int commands;

    private Installation(Path home, Path workDir, int port, int httpPort) {
        this.home = home;
        this.workDir = workDir;
        this.port = port;
        this.httpPort = httpPort;
    }

    /**
     * Copies the assembled distribution (system property {@code signalbox.distribution}, set by
     * failsafe) into {@code tempDir/signalbox} and gives it a free TCP port and a free HTTP port.
     */
    static Installation copyInto(Path tempDir) throws IOException {
        String source = System.getProperty("signalbox.distribution", "target/signalbox");
        Path from = Path.of(source).toAbsolutePath();
        if (!Files.isExecutable(from.resolve("bin/signalbox"))) {
            throw new IllegalStateException("no assembled distribution at " + from + " (run mvn package first)");
        }
        Path home = tempDir.resolve("signalbox");
        copyTree(from, home);
        // commands run from a different folder: the script must not depend on the caller's cwd
        Path workDir = Files.createDirectories(tempDir.resolve("elsewhere"));
        int port = freePort();
        setPort(home.resolve(TRANSPORT_CFG), port);
        int httpPort = freePort();
        setPort(home.resolve(HTTP_CFG), httpPort);
        LOG.info("distribution copied to {}, TCP port {}, HTTP port {}", home, port, httpPort);
        return new Installation(home, workDir, port, httpPort);
    }

    private static void setPort(Path cfg, int port) throws IOException {
        String text = Files.readString(cfg, StandardCharsets.UTF_8);
        Matcher m = PORT_LINE.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException(cfg + " has no port= line:\n" + text);
        }
        Files.writeString(cfg, m.replaceFirst("port=" + port), StandardCharsets.UTF_8);
    }

    Path home() {
        return home;
    }

    int port() {
        return port;
    }

    /** The HTTP server's port (etc/io.signalbox.http.cfg). */
    int httpPort() {
        return httpPort;
    }

    Path pidFile() {
        return home.resolve("data/signalbox.pid");
    }

    Path logFile() {
        return home.resolve("log/signalbox.log");
    }

    Path filesRoot() {
        return home.resolve("data/files");
    }

    /** The result of one {@code bin/signalbox} command: exit code and everything it printed. */
    record Result(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit " + exitCode + ": " + output.strip();
        }
    }

    /** Runs {@code bin/signalbox <command>} from a folder other than the distribution's. */
    Result command(String command) throws IOException, InterruptedException {
        return command(command, Map.of());
    }

    /** Same, with extra environment variables. */
    Result command(String command, Map<String, String> env) throws IOException, InterruptedException {
        Path out = workDir.resolve("command-" + (++commands) + "-" + command + ".out");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/signalbox").toString(), command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        // the JVM running this test, and a modest heap: two of these may run on a 2-core box
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SIGNALBOX_JAVA_OPTS", "-Xmx384m");
        pb.environment().remove("SIGNALBOX_STOP_TIMEOUT");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("bin/signalbox " + command + " did not return within " + COMMAND_TIMEOUT);
        }
        Result result = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        LOG.info("bin/signalbox {} → {}", command, result);
        return result;
    }

    /** Polls until a TCP connection to the transport succeeds. */
    void awaitListening() {
        boolean up = poll(STARTUP_TIMEOUT, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
        if (!up) {
            throw new IllegalStateException("nothing listens on 127.0.0.1:" + port + " after " + STARTUP_TIMEOUT
                    + "; log:\n" + log());
        }
    }

    /** The pid in the pid file, if there is one. */
    Optional<Long> pid() {
        try {
            if (!Files.exists(pidFile())) {
                return Optional.empty();
            }
            String text = Files.readString(pidFile(), StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String log() {
        try {
            return Files.exists(logFile()) ? Files.readString(logFile(), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Cleanup after a test, whatever happened in it: {@code bin/signalbox stop}, and if the process
     * is still there after that, kill it (and say so) so that no JVM outlives the test run.
     */
    void stopQuietly() {
        Optional<Long> pid = pid().filter(Installation::isRunning);
        if (pid.isEmpty()) {
            return;
        }
        try {
            command("stop");
        } catch (IOException | RuntimeException e) {
            LOG.warn("bin/signalbox stop failed during cleanup", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pid.filter(Installation::isRunning).flatMap(ProcessHandle::of).ifPresent(p -> {
            LOG.warn("Signalbox pid {} survived bin/signalbox stop; killing it", p.pid());
            p.destroyForcibly();
        });
    }

    /**
     * Whether the process runs. A process that has exited but is not yet reaped (a zombie: the
     * daemon's parent is init, which reaps when it gets to it) does not run, though
     * {@link ProcessHandle#isAlive()} still says it is alive.
     */
    static boolean isRunning(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(Path.of("/proc/self"))) {
            try {
                String text = Files.readString(stat, StandardCharsets.US_ASCII);
                // "<pid> (<comm>) <state> …": the command may contain spaces and parentheses
                char state = text.charAt(text.lastIndexOf(')') + 2);
                return state != 'Z' && state != 'X';
            } catch (IOException gone) {
                return false;
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Sends a signal ({@code STOP}, {@code CONT}, …) with kill(1). */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!kill.waitFor(30, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
        }
    }

    /**
     * Writes {@code text} to {@code relativePath} under the distribution through a temp file and
     * a move, so that fileinstall never reads half a file.
     */
    void configure(String relativePath, String text) throws IOException {
        Path file = home.resolve(relativePath);
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Polls {@code condition} every 50 ms until it holds or {@code timeout} has passed. */
    static boolean poll(Duration timeout, BooleanSupplier condition) {
        return poll(timeout, Duration.ofMillis(50), condition);
    }

    /** Polls {@code condition} every {@code interval} until it holds or {@code timeout} has passed. */
    static boolean poll(Duration timeout, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(interval.toNanos());
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static java.io.File nullDevice() {
        return new java.io.File("/dev/null");
    }

    /**
     * Copies a tree keeping file modes (bin/signalbox stays executable). The contents of data/
     * and log/ are left behind: the assembled folder may have been run in place before.
     */
    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String rel = from.relativize(dir).toString();
                Files.createDirectories(to.resolve(rel));
                return rel.equals("data") || rel.equals("log") ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                        LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Every regular file under {@code root}, sorted by path. */
    static List<Path> filesUnder(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (var s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
