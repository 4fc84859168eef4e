package io.signalbox.backend.postgres.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.postgresql.Driver;

/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: Debian's binaries
 * ({@code /usr/lib/postgresql/<version>/bin}, installed by {@code .ci/run} if missing), a temp
 * directory, a free port on 127.0.0.1, and a database {@code signalbox}. initdb refuses to run as
 * root, so as root every server command runs as {@code postgres} via {@code runuser} in a
 * directory owned by it. {@link #stop()} and {@link #start()} restart the same cluster on the
 * same port; {@link #close()} stops it and deletes the directory.
 */
public final class PostgresCluster implements AutoCloseable {
    private final Path bin;
    private final Path dir;
    private final Path data;
    private final int port;
    private final boolean root;
    private final String user;
    private final String password;
    private boolean running;

    private PostgresCluster(Path bin, Path dir, int port, boolean root, String user, String password) {
        this.bin = bin;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.port = port;
        this.root = root;
        this.user = user;
        this.password = password;
    }

    /** The bin directory of the newest installed PostgreSQL, or {@code null}. */
    public static Path binaries() {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return null;
        }
        try (Stream<Path> versions = Files.list(base)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(b -> versionOf(b.getParent().getFileName().toString())))
                    .orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Integer versionOf(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A cluster with trust authentication, superuser {@code signalbox}, fsync on. */
    public static PostgresCluster create() throws IOException, SQLException {
        return create(null, true);
    }

    /**
     * A cluster whose superuser {@code signalbox} logs in with {@code password} (scram-sha-256), or
     * with trust if {@code password} is {@code null}.
     */
    public static PostgresCluster create(String password, boolean fsync) throws IOException, SQLException {
        Path bin = binaries();
        if (bin == null) {
            throw new IllegalStateException("no PostgreSQL binaries under /usr/lib/postgresql/*/bin: "
                    + "install Debian's postgresql package (.ci/run does when missing)");
        }
        boolean root = "0".equals(run(List.of("id", "-u"), null).trim());
        Path dir = Files.createTempDirectory("signalbox-pg-");
        PostgresCluster c = new PostgresCluster(bin, dir, freePort(), root, "signalbox", password);
        try {
            c.init(fsync);
            c.start();
            try (Connection conn = c.connect("postgres"); Statement s = conn.createStatement()) {
                s.execute("CREATE DATABASE signalbox");
            }
        } catch (IOException | SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void init(boolean fsync) throws IOException {
        if (root) {
            run(List.of("chown", "postgres:", dir.toString()), null);
        }
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("initdb").toString(), "-D", data.toString(),
                "-U", user, "-E", "UTF8", "--locale=C", "--no-sync"));
        if (password != null) {
            Path pw = dir.resolve("pwfile");
            Files.writeString(pw, password + "\n", StandardCharsets.UTF_8);
            if (root) {
                run(List.of("chown", "postgres:", pw.toString()), null);
            }
            cmd.add("--auth=scram-sha-256");
            cmd.add("--pwfile=" + pw);
        } else {
            cmd.add("--auth=trust");
        }
        runAsOwner(cmd);
        Files.writeString(data.resolve("postgresql.conf"), "\nlisten_addresses = '127.0.0.1'\nport = " + port
                + "\nunix_socket_directories = '" + dir + "'\nfsync = " + (fsync ? "on" : "off")
                + "\nmax_connections = 50\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    }

    /** Starts the (stopped) cluster and waits until it accepts connections. */
    public void start() throws IOException {
        runAsOwner(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                dir.resolve("server.log").toString(), "-w", "-t", "60", "start"));
        running = true;
    }

    /** Stops the cluster (fast shutdown: open connections are cut) and waits until it is down. */
    public void stop() throws IOException {
        runAsOwner(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
        running = false;
    }

    public int port() {
        return port;
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/signalbox}. */
    public String url() {
        return url("signalbox");
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public String user() {
        return user;
    }

    /** A new connection (autocommit) to {@code database} as the superuser. */
    public Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        return new Driver().connect(url(database), p);
    }

    /** The server's log so far. */
    public String serverLog() throws IOException {
        Path log = dir.resolve("server.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    private void runAsOwner(List<String> cmd) throws IOException {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(cmd);
        run(full, dir);
    }

    private static String run(List<String> cmd, Path cwd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        Path out = Files.createTempFile("signalbox-pg-cmd", ".out");
        try {
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish within 120 s");
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + text);
            }
            return text;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd), e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (running) {
                stop();
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
