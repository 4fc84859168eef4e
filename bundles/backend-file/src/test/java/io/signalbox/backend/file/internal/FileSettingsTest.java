package io.signalbox.backend.file.internal;

import static io.signalbox.backend.file.internal.TestSupport.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.signalbox.api.ConfigCheck;

class FileSettingsTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreTheOnesTheConfigTemplateShows() {
        FileSettings s = settings(dir);
        assertThat(s.root()).isEqualTo(dir.toAbsolutePath().normalize());
        assertThat(s.template()).hasToString("{source}/{date}.jsonl");
        assertThat(s.rotateBytes()).isZero();
        assertThat(s.compressRotated()).isFalse();
        assertThat(s.fsync()).isEqualTo(FsyncPolicy.INTERVAL);
        assertThat(s.fsyncIntervalMillis()).isEqualTo(1000);
        assertThat(s.bufferBytes()).isEqualTo(64 * 1024);
        assertThat(s.idleCloseMillis()).isEqualTo(300_000);
        assertThat(s.maxOpenFiles()).isEqualTo(DescriptorLimit.autoMaxOpenFiles(DescriptorLimit.ofThisProcess()));
        assertThat(s.describe()).contains("path.template={source}/{date}.jsonl", "fsync=interval", "buffer.kb=64");
    }

    @Test
    void valuesAreUnquotedAndConvertedOnce() {
        FileSettings s = settings(dir, "path", "\"" + dir.resolve("x/../y") + "\"", "fsync", "Batch",
                "rotate.size.mb", 0.5, "idle.close.seconds", 0);
        assertThat(s.root()).isEqualTo(dir.resolve("y").toAbsolutePath());
        assertThat(s.fsync()).isEqualTo(FsyncPolicy.BATCH);
        assertThat(s.rotateBytes()).isEqualTo(512 * 1024);
        assertThat(s.idleCloseMillis()).isZero();
    }

    private String rejection(Object... keyValues) {
        Throwable t = catchThrowable(() -> settings(dir, keyValues));
        assertThat(t).isInstanceOf(ConfigCheck.Rejected.class);
        return t.getMessage();
    }

    @Test
    void everyBadValueIsNamedInOneRejection() {
        assertThat(rejection("fsync", "sometimes", "path.template", "{source}/{dat}.jsonl", "rotate.size.mb", -1,
                "fsync.interval.ms", 0, "buffer.kb", 0, "idle.close.seconds", -1, "max.open.files", -1)).contains(
                        "'fsync' must be one of never, batch, interval, is \"sometimes\"",
                        "'path.template' must use only {source} {date} {hour} {type}, not {dat}",
                        "'rotate.size.mb' must be >= 0, is -1",
                        "'fsync.interval.ms' must be >= 1, is 0",
                        "'buffer.kb' must be 1..16384, is 0",
                        "'idle.close.seconds' must be >= 0, is -1",
                        "'max.open.files' must be >= 0, is -1");
    }

    @Test
    void unknownKeysAndWrongTypesAreRejectedBeforeValues() {
        assertThat(rejection("fsnyc", "batch", "buffer.kb", 0)).startsWith("unknown key 'fsnyc' (did you mean 'fsync'?)");
        assertThat(rejection("buffer.kb", "lots")).contains("'buffer.kb' = 'lots' is not a valid int");
    }

    @Test
    void aPathTheFileSystemCannotNameIsRejected() {
        assertThat(rejection("path", "data/\0files")).contains("'path' must be a valid path");
    }

    @Test
    void aPathOutsideTheDistributionFolderNeedsAllowAbsolutePath(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home)
            throws Exception {
        java.util.Map<String, Object> etc = TestSupport.properties(java.nio.file.Path.of("/etc"));
        assertThatThrownBy(() -> FileSettings.of(TestSupport.config(etc), etc, home))
                .hasMessageContaining("'path' /etc is outside the distribution folder " + home)
                .hasMessageContaining("allow.absolute.path=true");
        java.util.Map<String, Object> root = TestSupport.properties(java.nio.file.Path.of("/"));
        assertThatThrownBy(() -> FileSettings.of(TestSupport.config(root), root, home)).hasMessageContaining("outside");
        java.util.Map<String, Object> itself = TestSupport.properties(home);
        assertThatThrownBy(() -> FileSettings.of(TestSupport.config(itself), itself, home)).hasMessageContaining("outside");

        java.util.Map<String, Object> allowed = TestSupport.properties(java.nio.file.Path.of("/var/lib/signalbox"),
                "allow.absolute.path", true);
        FileSettings s = FileSettings.of(TestSupport.config(allowed), allowed, home);
        assertThat(s.outsideHome()).isTrue();
        assertThat(s.describe()).contains("outside the distribution folder");
        java.util.Map<String, Object> inside = TestSupport.properties(home.resolve("data/files"));
        assertThat(FileSettings.of(TestSupport.config(inside), inside, home).outsideHome()).isFalse();
    }

    @Test
    void filesAre0640AndFoldersAre0750UnlessConfigured() throws Exception {
        FileSettings s = settings(dir);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(s.fileMode())).isEqualTo("rw-r-----");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(s.dirMode())).isEqualTo("rwxr-x---");
        FileSettings open = settings(dir, "file.mode", "0644", "dir.mode", "0755");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(open.fileMode())).isEqualTo("rw-r--r--");
        assertThat(rejection("file.mode", "rw-r-----")).contains("'file.mode' must be octal");
        assertThat(rejection("file.mode", "0440")).contains("'file.mode' must let the owner read and write");
        assertThat(rejection("dir.mode", "0640")).contains("'dir.mode' must let the owner read, write and enter");
    }

    @Test
    void maxOpenFilesZeroMeansAutoFromTheProcesssDescriptorLimit() {
        FileSettings auto = settings(dir);
        assertThat(auto.maxOpenFiles()).isEqualTo(DescriptorLimit.autoMaxOpenFiles(DescriptorLimit.ofThisProcess()))
                .isBetween(DescriptorLimit.AUTO_MIN, DescriptorLimit.AUTO_MAX);
        assertThat(settings(dir, "max.open.files", 12).maxOpenFiles()).isEqualTo(12);
    }
}
