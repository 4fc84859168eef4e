package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private copy of the assembled distribution in a temp folder, driven through its own
 * {@code bin/signalbox} as a separate process, as an operator would.
 *
 * @param home     the copy
 * @param workDir  where its commands run (not {@code home}: the script must not depend on the caller's cwd)
 * @param port     the TCP transport's port
 * @param httpPort the HTTP server's port (etc/io.signalbox.http.cfg)
 */
record Installation(Path home, Path workDir, int port, int httpPort) {
    private static final Logger LOG = LoggerFactory.getLogger(Installation.class);

    /** How long one {@code bin/signalbox} command may take ({@code stop} waits up to 60 s itself). */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private static final String TRANSPORT_CFG = "etc/io.signalbox.transport.tcp.cfg";
    private static final String HTTP_CFG = "etc/io.signalbox.http.cfg";
    private static final Pattern PORT_LINE = Pattern.compile("(?m)^port=\\d+$");

    /** Numbers the output files of the commands. */
    private static final AtomicInteger COMMANDS = new AtomicInteger();

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
        return run(env, command);
    }

    /**
     * Runs {@code bin/signalbox <args…>} from a folder other than the distribution's, with extra
     * environment variables ({@code SIGNALBOX_HTTP} of this JVM's environment is not passed on).
     */
    Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        String command = String.join(" ", args);
        List<String> argv = new ArrayList<>();
        argv.add(home.resolve("bin/signalbox").toString());
        argv.addAll(List.of(args));
        Path out = workDir.resolve("command-" + COMMANDS.incrementAndGet() + "-" + args[0] + ".out");
        ProcessBuilder pb = new ProcessBuilder(argv)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        // the JVM running this test, and a modest heap: two of these may run on a 2-core box
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SIGNALBOX_JAVA_OPTS", "-Xmx384m");
        // no class-data archive: its background job (a JVM of its own, after the first start) would
        // compete with the tests for the cores and write into a folder JUnit deletes; ClassDataSharingIT
        // turns it on (SIGNALBOX_CDS=auto) and waits for it
        pb.environment().put("SIGNALBOX_CDS", "off");
        pb.environment().remove("SIGNALBOX_STOP_TIMEOUT");
        // a class-data archive job at nice 19 can take minutes on a busy CI machine: stop waits for it
        pb.environment().put("SIGNALBOX_CDS_DUMP_WAIT", "300");
        pb.environment().remove("SIGNALBOX_HTTP");
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

    /** {@code bin/signalbox start}, which must succeed, then {@link #awaitListening()}. */
    void start() throws IOException, InterruptedException {
        start("");
    }

    /** {@link #start()}; {@code when} says which start it is in the failure message. */
    void start(String when) throws IOException, InterruptedException {
        start(when, Map.of());
    }

    /** {@link #start(String)} with extra environment variables. */
    void start(String when, Map<String, String> env) throws IOException, InterruptedException {
        Result start = command("start", env);
        assertThat(start.exitCode()).as("%s: %s", ("bin/signalbox start " + when).strip(), start).isZero();
        awaitListening();
    }

    /** {@code bin/signalbox stop}, which must succeed. */
    void stop() throws IOException, InterruptedException {
        stop("");
    }

    /** {@link #stop()}; {@code when} says which stop it is in the failure message. */
    void stop(String when) throws IOException, InterruptedException {
        Result stop = command("stop");
        assertThat(stop.exitCode()).as("%s: %s", ("bin/signalbox stop " + when).strip(), stop).isZero();
    }

    /** An answer to {@link #get}: status -1 and no body when nothing answered. */
    record HttpAnswer(int status, String body) {
        /** The body of a 200 answer, or "" for anything else (refused, timed out, other status). */
        String ok() {
            return status == 200 ? body : "";
        }
    }

    /** GET {@code uri} (e.g. {@code http://127.0.0.1:<httpPort()>/metrics}). */
    static HttpAnswer get(String uri) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(uri).toURL().openConnection();
            c.setConnectTimeout(5000);
            c.setReadTimeout(10_000);
            try {
                int status = c.getResponseCode();
                InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
                return new HttpAnswer(status, in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } finally {
                c.disconnect();
            }
        } catch (IOException nothingAnswered) {
            return new HttpAnswer(-1, "");
        }
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
     * For failure messages: the lines of {@code log} with a warning or an error, or one of
     * {@code words} (any case), at most 200.
     */
    static String excerpt(String log, String... words) {
        return log.lines()
                .filter(l -> l.contains("ERROR") || l.contains("WARN") || containsAny(l.toLowerCase(Locale.ROOT), words))
                .limit(200)
                .collect(Collectors.joining("\n"));
    }

    private static boolean containsAny(String line, String... words) {
        for (String w : words) {
            if (line.contains(w)) {
                return true;
            }
        }
        return false;
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

    /**
     * Feeds every line of every file under {@code root} (gzipped rotated files too), files in path
     * order, to {@code line}.
     */
    static void forEachLine(Path root, Consumer<String> line) throws IOException {
        for (Path f : filesUnder(root)) {
            InputStream raw = Files.newInputStream(f);
            InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                r.lines().forEach(line);
            }
        }
    }

    /** Every line of every file under {@code root}: {@link #forEachLine} into a list. */
    static List<String> linesUnder(Path root) throws IOException {
        List<String> lines = new ArrayList<>();
        forEachLine(root, lines::add);
        return lines;
    }

    /**
     * Half-closes a client connection and waits until the sidecar closes its side: then it has
     * read everything the client wrote.
     */
    static void halfCloseAndAwaitClose(Socket socket, Duration timeout, String what) throws IOException {
        socket.shutdownOutput();
        socket.setSoTimeout((int) timeout.toMillis());
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[1024];
        try {
            while (in.read(buf) >= 0) {
                // the sidecar sends nothing; anything it did send is ignored
            }
        } catch (SocketTimeoutException e) {
            throw new IllegalStateException(what + ": the sidecar did not close its side within " + timeout.toSeconds()
                    + " s after the client half-closed", e);
        }
    }
}
