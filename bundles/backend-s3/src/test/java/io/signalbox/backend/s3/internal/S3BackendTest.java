package io.signalbox.backend.s3.internal;

import static io.signalbox.backend.s3.internal.Fixtures.await;
import static io.signalbox.backend.s3.internal.Fixtures.batch;
import static io.signalbox.backend.s3.internal.Fixtures.settings;
import static io.signalbox.backend.s3.internal.Fixtures.texts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.Batch;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import io.signalbox.api.MetricSamples;

/** The backend against a real S3 server (S3Proxy) in this JVM, reading every object back. */
class S3BackendTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path staging;

    private String prefix;

    @BeforeEach
    void uniquePrefix() {
        prefix = "t" + System.nanoTime() + "/";
    }

    private S3Settings base(Object... more) {
        Map<String, Object> m = server.config(more);
        m.put("prefix", prefix);
        m.put("staging.dir", staging.toString());
        return settings(m);
    }

    private List<String> keys() {
        return server.keys().stream().filter(k -> k.startsWith(prefix)).toList();
    }

    private List<String> lines() {
        List<String> out = new ArrayList<>();
        for (String k : keys()) {
            out.addAll(server.lines(k));
        }
        return out;
    }

    /** {@code signalbox_backend_s3_<name>{backend="<the backend's name>"}}. */
    private static long stat(S3Backend b, String name) {
        return (long) MetricSamples.of(b).value("signalbox_backend_s3_" + name, "backend", b.name());
    }

    @Test
    void everyMessageOfSeveralSourcesIsInExactlyOneGzipObjectUnderTheTemplateKey() throws Exception {
        S3Backend b = new S3Backend("archive", base());
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            for (String src : List.of("billing", "cron.nightly", "odd name/x")) {
                b.write(batch(src, i * 20, 20));
                expected.addAll(texts(src, i * 20, 20));
            }
        }
        b.close();

        assertThat(lines()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(keys()).hasSize(3).allSatisfy(k -> assertThat(k).matches(
                java.util.regex.Pattern.quote(prefix)
                        + "(billing|cron\\.nightly|odd_name_x)/\\d{4}/\\d{2}/\\d{2}/\\d{2}/[0-9a-f-]{36}\\.jsonl\\.gz"));
        assertThat(stat(b, "messages_total")).isEqualTo(3000);
        assertThat(stat(b, "batches_total")).isEqualTo(150);
        assertThat(stat(b, "objects_total")).isEqualTo(3);
        assertThat(stat(b, "staged_bytes")).isZero();
        try (Stream<Path> files = Files.list(staging.resolve("archive"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void linesOfOneSourceKeepTheirOrderWithinAnObject() throws Exception {
        S3Backend b = new S3Backend("ordered", base());
        for (int i = 0; i < 10; i++) {
            b.write(batch("svc", i * 100, 100));
        }
        b.close();
        assertThat(keys()).hasSize(1);
        assertThat(server.lines(keys().get(0))).containsExactlyElementsOf(texts("svc", 0, 1000));
    }

    @Test
    void withoutGzipObjectsArePlainJsonLinesWithoutGzSuffix() throws Exception {
        S3Backend b = new S3Backend("plain", base("gzip", "false"));
        b.write(batch("svc", 0, 10));
        b.close();
        assertThat(keys()).singleElement().satisfies(k -> assertThat(k).endsWith(".jsonl"));
        assertThat(lines()).containsExactlyElementsOf(texts("svc", 0, 10));
    }

    @Test
    void anObjectIsUploadedWhenItReachesObjectMaxSizeWithoutWaitingForItsAge() throws Exception {
        S3Settings s = base().withLimits(20_000, Duration.ofHours(1), 5 * 1024 * 1024);
        S3Backend b = new S3Backend("sized", s);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            b.write(batch("svc", i * 10, 10)); // ~1.2 kB per batch
            expected.addAll(texts("svc", i * 10, 10));
        }
        // every object but the open one is uploaded while the backend runs
        await(WAIT, "size-rolled objects uploaded", () -> keys().size() >= 5 && b.pendingObjects() == 0);
        List<String> before = keys();
        for (String k : before) {
            List<String> ls = server.lines(k);
            long bytes = ls.stream().mapToLong(l -> l.getBytes(StandardCharsets.UTF_8).length + 1).sum();
            assertThat(bytes).isLessThanOrEqualTo(20_000);
        }
        b.close();
        assertThat(lines()).containsExactlyInAnyOrderElementsOf(expected).doesNotHaveDuplicates();
        assertThat(keys().size()).isGreaterThan(before.size() - 1);
    }

    @Test
    void anObjectIsUploadedWhenItsFirstBatchIsOlderThanObjectMaxAge() throws Exception {
        S3Settings s = base().withLimits(8 * 1024 * 1024, Duration.ofMillis(300), 5 * 1024 * 1024);
        S3Backend b = new S3Backend("aged", s);
        try {
            b.write(batch("svc", 0, 5));
            await(WAIT, "age-rolled object uploaded", () -> keys().size() == 1);
            assertThat(lines()).containsExactlyElementsOf(texts("svc", 0, 5));
            b.write(batch("svc", 5, 5));
            await(WAIT, "second age-rolled object uploaded", () -> keys().size() == 2);
            assertThat(lines()).containsExactlyInAnyOrderElementsOf(texts("svc", 0, 10));
        } finally {
            b.close();
        }
    }

    @Test
    void anObjectLargerThanOnePartIsUploadedAsMultipart() throws Exception {
        // gzip off so that 12 MiB of lines make a 12 MiB object: three parts of 5 MiB
        S3Settings s = base("gzip", "false").withLimits(64L * 1024 * 1024, Duration.ofHours(1), 5 * 1024 * 1024);
        S3Backend b = new S3Backend("big", s);
        List<String> expected = new ArrayList<>();
        int n = 0;
        long bytes = 0;
        while (bytes < 12L * 1024 * 1024) {
            Batch batch = batch("svc", n, 1000);
            b.write(batch);
            expected.addAll(texts("svc", n, 1000));
            for (Message m : batch.messages()) {
                bytes += m.line().length + 1;
            }
            n += 1000;
        }
        b.close();
        assertThat(stat(b, "multipart_objects_total")).isEqualTo(1);
        assertThat(keys()).hasSize(1);
        assertThat(lines()).containsExactlyElementsOf(expected);
    }

    @Test
    void uploadsThatFailWhileTheServerIsDownAreRetriedAndNothingIsLost() throws Exception {
        S3Settings s = base().withLimits(5_000, Duration.ofMillis(200), 5 * 1024 * 1024)
                .withRetry(Duration.ofMillis(100), Duration.ofMillis(400));
        S3Backend b = new S3Backend("flaky", s);
        List<String> expected = new ArrayList<>();
        try {
            b.write(batch("svc", 0, 30));
            expected.addAll(texts("svc", 0, 30));
            await(WAIT, "first object uploaded", () -> keys().size() >= 1 && b.pendingObjects() == 0);

            server.stop();
            for (int i = 1; i < 20; i++) {
                b.write(batch("svc", i * 30, 30)); // write() keeps accepting: the data is staged
                expected.addAll(texts("svc", i * 30, 30));
            }
            await(WAIT, "failed uploads counted", () -> stat(b, "upload_failures_total") >= 2);
            assertThat(b.pendingObjects()).isPositive();
            assertThat(stat(b, "staged_bytes")).isPositive();

            server.restart();
            await(WAIT, "retried uploads done", () -> b.pendingObjects() == 0);
        } finally {
            b.close();
        }
        assertThat(lines()).containsExactlyInAnyOrderElementsOf(expected).doesNotHaveDuplicates();
        try (Stream<Path> files = Files.list(staging.resolve("flaky"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void whatIsNotUploadedWhenClosedStaysStagedAndIsUploadedByTheNextStart() throws Exception {
        S3Settings s = base().withCloseTimeout(Duration.ofMillis(300))
                .withRetry(Duration.ofMillis(100), Duration.ofMillis(200));
        server.stop();
        try {
            S3Backend first = new S3Backend("restart", s);
            first.write(batch("a", 0, 10));
            first.write(batch("b", 0, 10));
            first.close();
            try (Stream<Path> files = Files.list(staging.resolve("restart"))) {
                assertThat(files).hasSize(2);
            }
            // a crash in the middle of a write leaves a torn last line: it is cut, the rest uploaded
            Path torn = staging.resolve("restart").resolve(System.currentTimeMillis() + "."
                    + java.util.UUID.randomUUID() + "." + java.util.Base64.getUrlEncoder().withoutPadding()
                            .encodeToString("c".getBytes(StandardCharsets.UTF_8)) + ".jsonl");
            Files.writeString(torn, Fixtures.text("c", 0) + "\n" + "{\"v\":1,\"src\":\"c\",\"ts\":17");
        } finally {
            server.restart();
        }
        S3Backend second = new S3Backend("restart", s);
        await(WAIT, "staged objects of the earlier run uploaded", () -> second.pendingObjects() == 0);
        second.close();
        List<String> expected = new ArrayList<>(texts("a", 0, 10));
        expected.addAll(texts("b", 0, 10));
        expected.addAll(texts("c", 0, 1));
        assertThat(lines()).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void writeFailsOnceTheStagingIsFullSoThatRoutingRetriesAndSpools() throws Exception {
        S3Settings s = base().withLimits(2_000, Duration.ofHours(1), 5 * 1024 * 1024).withStaging(staging, 10_000)
                .withRetry(Duration.ofMillis(100), Duration.ofMillis(200)).withCloseTimeout(Duration.ofMillis(200));
        server.stop();
        S3Backend b;
        try {
            b = new S3Backend("full", s);
            int i = 0;
            IOException failure = null;
            while (failure == null && i < 1000) {
                try {
                    b.write(batch("svc", i * 10, 10));
                    i++;
                } catch (IOException e) {
                    failure = e;
                }
            }
            assertThat(failure).isNotNull().hasMessageContaining("staging is full");
            assertThat(stat(b, "failures_total")).isEqualTo(1);
            assertThat(stat(b, "staged_bytes")).isLessThanOrEqualTo(10_000);
            b.close();
        } finally {
            server.restart();
        }
    }

    @Test
    void writeAfterCloseIsRefused() throws Exception {
        S3Backend b = new S3Backend("closed", base());
        b.close();
        assertThatThrownBy(() -> b.write(batch("svc", 0, 1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void tornTailIsCutAtTheLastNewline(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.jsonl");
        Files.writeString(f, "{\"a\":1}\n{\"b\":");
        assertThat(S3Backend.cutTornTail(f)).isEqualTo(8);
        assertThat(Files.readString(f)).isEqualTo("{\"a\":1}\n");
    }

    @Test
    void aVeryLongSourceIsCutInTheKeyButItsMessagesAreAllStored() throws Exception {
        String source = "s".repeat(90) + "é".repeat(20);
        S3Backend b = new S3Backend("long", base());
        b.write(batch(source, 0, 5));
        b.close();
        assertThat(S3Backend.keySource(source).getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(96);
        assertThat(keys()).singleElement().satisfies(k -> assertThat(k).startsWith(prefix + "s".repeat(90) + "___/"));
        assertThat(lines()).containsExactlyElementsOf(texts(source, 0, 5));
    }

    @Test
    void emptyBatchWritesNothing() throws Exception {
        S3Backend b = new S3Backend("empty", base());
        b.write(new Batch("svc", List.of()));
        b.close();
        assertThat(keys()).isEmpty();
        assertThat(MessageType.EVENT).isNotNull();
    }
}
