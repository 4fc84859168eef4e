package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Class-data sharing of {@code bin/signalbox}: the first start records the classes it loads, a background
 * job makes an archive of them in {@code data/cds/} (at the latest once that JVM has exited), later starts
 * map it, and an archive that is damaged in any way never stops the sidecar from starting (nor from
 * working). Whether the JVM really uses the archive is read from {@code /proc/<pid>/maps}, where a mapped
 * archive appears by path.
 */
class ClassDataSharingIT extends InstallationTest {
    private static final String TRAINING = "-XX:DumpLoadedClassList=data/cds/";
    private static final String USING = "-XX:SharedArchiveFile=data/cds/";
    /** Installation turns class-data sharing off for the other tests; the shipped default is auto. */
    private static final Map<String, String> CDS = Map.of("SIGNALBOX_CDS", "auto");
    /** The background job waits for the JVM's exit (polled every second), then needs a few CPU seconds. */
    private static final Duration DUMP_TIMEOUT = Duration.ofSeconds(120);

    /** Stops the sidecar and waits for the background job, before JUnit deletes the folder. */
    @AfterEach
    void stopAndAwaitTheBackgroundJob() {
        signalbox.stopQuietly();
        awaitNoDump();
    }

    @Test
    void theFirstStartRecordsItsClassesAndLaterStartsMapTheArchiveMadeFromThem() throws Exception {
        signalbox.start("first", CDS);
        assertThat(commandLine()).as("the first start records its classes").anyMatch(a -> a.startsWith(TRAINING));
        delivered("first");
        signalbox.stop("first");
        awaitNoDump();

        signalbox.start("second", CDS);
        Path archive = archive();
        assertThat(commandLine()).contains(USING + archive.getFileName(), "-XX:+VerifySharedSpaces", "-Xshare:auto");
        assertThat(maps()).as("the JVM maps the archive").contains(archive.toString());
        delivered("second");
        signalbox.stop("second");

        signalbox.start("third", CDS);
        assertThat(maps()).contains(archive.toString());
        assertThat(archive()).as("the same archive, not a new one").isEqualTo(archive);
        signalbox.stop("third");
    }

    @Test
    void aDamagedArchiveIsNotUsedAndTheSidecarStartsAndWorksAnyway() throws Exception {
        Path archive = trained();

        // damaged inside, header and size intact: the JVM refuses it (CRC), the script deletes it
        byte[] good = Files.readAllBytes(archive);
        byte[] bad = good.clone();
        new Random(12).ints(2000, 4096, bad.length).forEach(i -> bad[i] ^= (byte) 0x5a);
        Files.write(archive, bad);
        signalbox.start("with an archive damaged inside", CDS);
        assertThat(maps()).doesNotContain(archive.toString());
        delivered("damaged inside");
        assertThat(archive).as("an archive the JVM did not use is deleted").doesNotExist();
        assertThat(signalbox.log()).contains("did not use the class-data archive");
        signalbox.stop("damaged inside");
        awaitNoDump();

        // truncated, and named for its new size so that the script's size check passes: the JVM 17
        // crashes mapping it (SIGBUS); start sees the crash and starts again without the archive
        Path truncated = archive.resolveSibling(archive.getFileName().toString()
                .replaceFirst("-\\d+\\.jsa$", "-" + good.length / 2 + ".jsa"));
        deleteArchives();
        Files.write(truncated, Arrays.copyOf(good, good.length / 2));
        signalbox.start("with a truncated archive", CDS);
        assertThat(maps()).doesNotContain(truncated.getFileName().toString());
        delivered("truncated");
        assertThat(truncated).doesNotExist();
        signalbox.stop("truncated");
        awaitNoDump();

        // not an archive at all, and a stray file: deleted before the JVM sees them
        deleteArchives();
        Files.writeString(archive, "not an archive\n");
        Files.writeString(archive.resolveSibling("stray.jsa"), "left over\n");
        signalbox.start("with a file that is no archive", CDS);
        assertThat(commandLine()).noneMatch(a -> a.startsWith(USING)).anyMatch(a -> a.startsWith(TRAINING));
        assertThat(archive).doesNotExist();
        assertThat(archive.resolveSibling("stray.jsa")).doesNotExist();
        delivered("no archive");
        signalbox.stop("no archive");
    }

    @Test
    void anArchiveOfAnotherJdkOrOtherOptionsIsReplacedNotUsed() throws Exception {
        Path archive = trained();
        // other JVM options (as after a JDK or jar change): another key, so the old archive goes
        signalbox.start("with other options", Map.of("SIGNALBOX_CDS", "auto", "SIGNALBOX_JAVA_OPTS", "-Xmx320m"));
        assertThat(commandLine()).anyMatch(a -> a.startsWith(TRAINING));
        assertThat(archive).doesNotExist();
        delivered("other options");
        signalbox.stop("other options");
        awaitNoDump();
    }

    @Test
    void signalboxCdsOffAndTheUsersOwnSharingOptionsTurnItOff() throws Exception {
        signalbox.start("SIGNALBOX_CDS=off", Map.of("SIGNALBOX_CDS", "off"));
        assertThat(commandLine()).noneMatch(a -> a.startsWith(TRAINING) || a.startsWith(USING));
        assertThat(signalbox.home().resolve("data/cds")).doesNotExist();
        signalbox.stop("SIGNALBOX_CDS=off");

        signalbox.start("-Xshare:off", Map.of("SIGNALBOX_CDS", "auto", "SIGNALBOX_JAVA_OPTS", "-Xmx384m -Xshare:off"));
        assertThat(commandLine()).contains("-Xshare:off").noneMatch(a -> a.startsWith(TRAINING) || a.startsWith(USING));
        signalbox.stop("-Xshare:off");
    }

    /** An archive made and used once: start (records), stop, the background job, start (maps it), stop. */
    private Path trained() throws Exception {
        signalbox.start("recording", CDS);
        signalbox.stop("recording");
        awaitNoDump();
        signalbox.start("using the archive", CDS);
        Path archive = archive();
        assertThat(maps()).contains(archive.toString());
        signalbox.stop("using the archive");
        return archive;
    }

    /** Waits until no background job makes an archive (data/cds/dump.pid is gone). */
    private void awaitNoDump() {
        Path lock = signalbox.home().resolve("data/cds/dump.pid");
        assertThat(Installation.poll(DUMP_TIMEOUT, Duration.ofMillis(200), () -> !Files.exists(lock)))
                .as("the background job that makes the archive ends; log:\n%s", Installation.excerpt(signalbox.log(), "class-data"))
                .isTrue();
    }

    /** The one archive in data/cds/ (signalbox-<key>-<bytes>.jsa). */
    private Path archive() throws IOException {
        try (Stream<Path> files = Files.list(signalbox.home().resolve("data/cds"))) {
            List<Path> archives = files.filter(f -> f.getFileName().toString().matches("signalbox-\\d+-\\d+\\.jsa")).toList();
            assertThat(archives).as("archives in data/cds").hasSize(1);
            return archives.get(0).toRealPath();
        }
    }

    private void deleteArchives() throws IOException {
        try (Stream<Path> files = Files.list(signalbox.home().resolve("data/cds"))) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
    }

    /** An error event (flushed at once) sent over TCP arrives in the file backend's output. */
    private void delivered(String marker) throws IOException {
        String line = "{\"v\":1,\"src\":\"cds\",\"ts\":1763900000000,\"type\":\"event\",\"data\":{\"level\":\"error\",\"msg\":\""
                + marker + "\"}}";
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), signalbox.port())) {
            OutputStream out = s.getOutputStream();
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        boolean arrived = Installation.poll(Duration.ofSeconds(30), () -> {
            try {
                return Installation.linesUnder(signalbox.filesRoot()).contains(line);
            } catch (IOException notYet) {
                return false;
            }
        });
        assertThat(arrived).as("line '%s' on disk; log:\n%s", marker, Installation.excerpt(signalbox.log(), "cds", "class-data"))
                .isTrue();
    }

    private List<String> commandLine() throws IOException {
        long pid = signalbox.pid().orElseThrow();
        byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
        return Arrays.asList(new String(cmdline, StandardCharsets.UTF_8).split("\0"));
    }

    private String maps() throws IOException {
        long pid = signalbox.pid().orElseThrow();
        return Files.readString(Path.of("/proc", Long.toString(pid), "maps"), StandardCharsets.ISO_8859_1);
    }
}
