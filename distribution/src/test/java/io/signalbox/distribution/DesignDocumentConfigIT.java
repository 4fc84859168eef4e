package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.signalbox.backend.postgres.internal.PostgresCluster;

/**
 * The {@code sidecar-config.yaml} blocks of the design documents (seeds 000, 001, 002; verbatim in
 * docs/design-documents/), given to the assembled distribution with {@code bin/signalbox start
 * --config FILE} or {@code CONFIG_FILE=FILE}, with only paths, ports and the connection string
 * substituted; messages sent over TCP are looked for where the documents say they go.
 */
class DesignDocumentConfigIT extends InstallationTest {
    private static final Path DOCUMENTS = Path.of("../docs/design-documents");
    private static final String PASSWORD = "Doc-Pa55_w0rd";
    private static final Duration DELIVERY = Duration.ofSeconds(60);
    private static final long TS = 1_763_900_000_000L;

    private PostgresCluster pg;

    @AfterEach
    void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
    }

    private static String document(String name) throws IOException {
        return Files.readString(DOCUMENTS.resolve(name), StandardCharsets.UTF_8);
    }

    /** Replaces {@code from} (which must occur) by {@code to}. */
    private static String substitute(String text, String from, String to) {
        assertThat(text).as("the document has %s", from).contains(from);
        return text.replace(from, to);
    }

    /** A PostgreSQL with a password, and the libpq URI of the documents pointing at it. */
    private String postgresUri() throws Exception {
        pg = PostgresCluster.create(PASSWORD, false);
        return "postgresql://" + pg.user() + ":" + PASSWORD + "@127.0.0.1:" + pg.port() + "/signalbox";
    }

    private void deployPostgresBackend() throws IOException {
        Path jar = signalbox.home().resolve("optional/io.signalbox.backend.postgres.jar");
        Files.copy(jar, signalbox.home().resolve("deploy").resolve(jar.getFileName()));
    }

    private Path writeConfig(String yaml) throws IOException {
        Path file = tempDir.resolve("monitoring/config.yaml");
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(".config.yaml.tmp");
        Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private void startWith(Map<String, String> env, String... args) throws Exception {
        Installation.Result start = signalbox.run(env, args);
        assertThat(start.exitCode()).as("bin/signalbox %s: %s", String.join(" ", args), start).isZero();
        signalbox.awaitListening();
    }

    private void send(String... lines) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = socket.getOutputStream();
            for (String line : lines) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            }
            out.flush();
            Installation.halfCloseAndAwaitClose(socket, Duration.ofSeconds(30), "sending");
        }
    }

    private static String event(String src, int i, String msg) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (TS + i) + ",\"type\":\"event\",\"tid\":\"job-" + i
                + "\",\"data\":{\"level\":\"info\",\"msg\":\"" + msg + "\"}}";
    }

    private static String metric(String src, int i, String name) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (TS + i) + ",\"type\":\"metric\",\"data\":{\"name\":\""
                + name + "\",\"value\":" + i + "}}";
    }

    private static String progress(String src, int i) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + (TS + i)
                + ",\"type\":\"progress\",\"data\":{\"job_id\":\"job-" + i + "\",\"percent\":50,\"status\":\"running\"}}";
    }

    /** Rows of monitoring_events per type for {@code src}, e.g. "event,metric". */
    private String typesInPostgres(String src) {
        try (Connection c = pg.connect("signalbox"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select string_agg(type, ',' order by type) from monitoring_events "
                        + "where src = '" + src + "'")) {
            rs.next();
            return Objects.toString(rs.getString(1), "");
        } catch (java.sql.SQLException notYet) {
            return ""; // the table is made by the first write
        }
    }

    private static List<String> lines(Path root) {
        try {
            return Installation.linesUnder(root);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String logExcerpt() {
        return Installation.excerpt(signalbox.log(), "yaml", "backend ", "route");
    }

    /** The password appears nowhere an operator looks: log, /health, /api/backends, /api/routes, /metrics. */
    private void assertPasswordNowhere() {
        String base = "http://127.0.0.1:" + signalbox.httpPort();
        assertThat(signalbox.log()).doesNotContain(PASSWORD);
        for (String path : List.of("/health", "/api/backends", "/api/routes", "/metrics")) {
            Installation.HttpAnswer a = Installation.get(base + path);
            assertThat(a.status()).as(path).isEqualTo(200);
            assertThat(a.body()).as(path).doesNotContain(PASSWORD);
        }
    }

    @Test
    void document000FilesystemAndTimescaledbAsWrittenReceiveTheirMessages() throws Exception {
        Path basePath = tempDir.resolve("var-log-monitoring");
        String yaml = document("000-sidecar-config.yaml");
        yaml = substitute(yaml, "port: 17000", "port: " + signalbox.port());
        yaml = substitute(yaml, "/var/log/monitoring", basePath.toString());
        yaml = substitute(yaml, "\"postgresql://...\"", "\"" + postgresUri() + "\"");
        deployPostgresBackend();
        Path config = writeConfig(yaml);
        startWith(Map.of(), "start", "--config", config.toString());

        send(event("queue-service", 1, "q-event"), metric("queue-service", 2, "queue_depth"),
                progress("queue-service", 3), event("config-service", 4, "c-event"));

        // queue-service: timescaledb takes metric and event (filter), filesystem everything
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250),
                () -> typesInPostgres("queue-service").equals("event,metric")))
                .as("rows in monitoring_events; log:\n%s", logExcerpt()).isTrue();
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250),
                () -> lines(basePath.resolve("queue-service")).size() == 3
                        && lines(basePath.resolve("config-service")).size() == 1))
                .as("files under base_path %s: %s; log:\n%s", basePath, lines(basePath), logExcerpt()).isTrue();
        assertThat(String.join("\n", lines(basePath.resolve("config-service")))).contains("c-event");
        assertThat(Installation.filesUnder(basePath.resolve("queue-service")))
                .as("rotate_daily: one file per source and day").singleElement()
                .satisfies(f -> assertThat(f.getFileName().toString()).matches("\\d{4}-\\d{2}-\\d{2}\\.jsonl"));
        assertThat(typesInPostgres("config-service")).as("default goes to the filesystem only").isEmpty();
        assertPasswordNowhere();
    }

    @Test
    void document001RuleConfigsMakeDerivedBackendsAndThePathRuleWritesExactlyThatFile() throws Exception {
        Path nas = tempDir.resolve("nas-logs");
        String yaml = document("001-sidecar-config.yaml");
        yaml = substitute(yaml, "port: 17000", "port: " + signalbox.port());
        yaml = substitute(yaml, "/mnt/nas/logs/queue-service.jsonl", nas.resolve("queue-service.jsonl").toString());
        yaml = substitute(yaml, "/mnt/nas/logs", nas.toString());
        yaml = substitute(yaml, "\"postgresql://user:pass@localhost:5432/monitoring\"", "\"" + postgresUri() + "\"");
        deployPostgresBackend();
        Path config = writeConfig(yaml);
        startWith(Map.of(), "start", "--config=" + config);

        send(event("queue-service", 1, "q-event"), metric("queue-service", 2, "queue_depth"),
                progress("queue-service", 3), event("config-service", 4, "c-event"));

        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250),
                () -> typesInPostgres("queue-service").equals("event,metric")))
                .as("rows in monitoring_events; log:\n%s", logExcerpt()).isTrue();
        Path file = nas.resolve("queue-service.jsonl");
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250), () -> lines(nas).size() == 1))
                .as("the rule's path %s; log:\n%s", file, logExcerpt()).isTrue();
        assertThat(Installation.filesUnder(nas)).containsExactly(file);
        assertThat(lines(nas).get(0)).contains("q-event");

        // the derived instances are backends of their own, under their own names
        String backends = Installation.get("http://127.0.0.1:" + signalbox.httpPort() + "/api/backends").ok();
        assertThat(backends).contains("\"timescaledb\"", "\"nfs-file.queue-service.1\"", "\"s3.config-service.0\"",
                "\"cloudwatch.default.0\"");
        assertThat(signalbox.log()).doesNotContain("rejected");
        assertPasswordNowhere();
    }

    @Test
    void document002SidecarWrapperMovesTheHttpPortIgnoresPerformanceOnceAndIsWatchedViaConfigFile()
            throws Exception {
        // the YAML is in charge of TCP and HTTP here: the shipped .cfg files would win over it
        Files.delete(signalbox.home().resolve("etc/io.signalbox.transport.tcp.cfg"));
        Files.delete(signalbox.home().resolve("etc/io.signalbox.http.cfg"));
        int metricsPort = Installation.freePort();
        String yaml = document("002-sidecar-config.yaml");
        yaml = substitute(yaml, "port: 17000", "port: " + signalbox.port());
        yaml = substitute(yaml, "metrics_port: 17001", "metrics_port: " + metricsPort);
        Path config = writeConfig(yaml);
        startWith(Map.of("CONFIG_FILE", config.toString()), "start");

        String health = "http://127.0.0.1:" + metricsPort + "/health";
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250), () -> Installation.get(health).status() == 200))
                .as("HTTP on metrics_port %d; log:\n%s", metricsPort, logExcerpt()).isTrue();
        assertThat(Installation.get("http://127.0.0.1:" + signalbox.httpPort() + "/health").status())
                .as("nothing on the port of the deleted .cfg").isEqualTo(-1);

        send(event("svc-002", 1, "hello-002"));
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250),
                () -> lines(signalbox.filesRoot().resolve("svc-002")).size() == 1))
                .as("the shipped default route; log:\n%s", logExcerpt()).isTrue();

        String log = signalbox.log();
        assertThat(log.lines().filter(l -> l.contains("performance.worker_threads ignored"))).hasSize(1);
        assertThat(log.lines().filter(l -> l.contains("performance.gc_interval ignored"))).hasSize(1);
        assertThat(log).doesNotContain("rejected");

    }

    /** The file given with CONFIG_FILE is watched: an edit in place moves the HTTP server again. */
    @Test
    void anEditOfTheConfigFileIsAppliedLive() throws Exception {
        Files.delete(signalbox.home().resolve("etc/io.signalbox.http.cfg"));
        int metricsPort = Installation.freePort();
        String yaml = substitute(document("002-sidecar-config.yaml"), "metrics_port: 17001", "metrics_port: " + metricsPort);
        Path config = writeConfig(yaml);
        startWith(Map.of("CONFIG_FILE", config.toString()), "start");
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250),
                () -> Installation.get("http://127.0.0.1:" + metricsPort + "/health").status() == 200)).isTrue();
        // edited in place (as an operator would): the HTTP server moves again
        int movedPort = Installation.freePort();
        Files.writeString(config, yaml.replace("metrics_port: " + metricsPort, "metrics_port: " + movedPort),
                StandardCharsets.UTF_8);
        assertThat(Installation.poll(DELIVERY, Duration.ofMillis(250),
                () -> Installation.get("http://127.0.0.1:" + movedPort + "/health").status() == 200))
                .as("HTTP moved to %d after the edit; log:\n%s", movedPort, logExcerpt()).isTrue();
    }
}
