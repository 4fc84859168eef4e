package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigCheck;

class ConfigFileWatchTest {
    @TempDir
    Path etc;

    /** A Config Admin holding one configuration per file of {@code applied}, as fileinstall makes them. */
    private static ConfigurationAdmin holding(List<Path> applied) {
        Configuration[] configs = applied.stream().map(p -> (Configuration) Proxy.newProxyInstance(
                ConfigFileWatchTest.class.getClassLoader(), new Class<?>[] { Configuration.class }, (o, m, a) -> {
                    if (m.getName().equals("getProperties")) {
                        Dictionary<String, Object> d = new Hashtable<>();
                        d.put(BackendNames.FILEINSTALL_FILENAME, p.toUri().toString());
                        return d;
                    }
                    throw new UnsupportedOperationException(m.getName());
                })).toArray(Configuration[]::new);
        return (ConfigurationAdmin) Proxy.newProxyInstance(ConfigFileWatchTest.class.getClassLoader(),
                new Class<?>[] { ConfigurationAdmin.class }, (o, m, a) -> {
                    if (m.getName().equals("listConfigurations")) {
                        return configs;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void aCfgFileFileinstallCouldNotReadIsCountedOnceAndAgainWhenItChanges() throws Exception {
        Path good = Files.writeString(etc.resolve("io.signalbox.http.cfg"), "port=17001\n");
        Path bad = Files.writeString(etc.resolve("io.signalbox.backend.file-bad.cfg"), "path=[\"x\n\\u12\u0000\n");
        ConfigFileWatch watch = new ConfigFileWatch(holding(List.of(good)), Set.of(etc), false);
        long before = ConfigCheck.rejectionCount();

        assertThat(watch.scan()).as("first seen: fileinstall may not have read it yet").isEmpty();
        assertThat(watch.scan()).containsExactly(bad.toAbsolutePath().normalize());
        assertThat(watch.scan()).as("reported once").isEmpty();

        assertThat(ConfigCheck.rejectionCount() - before).isEqualTo(1);
        ConfigCheck.Rejection last = ConfigCheck.lastRejection().orElseThrow();
        assertThat(last.pid()).isEqualTo("io.signalbox.backend.file-bad");
        assertThat(last.message()).contains("fileinstall could not read the file").contains(bad.getFileName().toString());

        Files.writeString(bad, "still [ broken\\u1\n");
        Files.setLastModifiedTime(bad, FileTime.fromMillis(Files.getLastModifiedTime(bad).toMillis() + 5000));
        watch.scan();
        assertThat(watch.scan()).as("changed and still unreadable").containsExactly(bad.toAbsolutePath().normalize());
        assertThat(ConfigCheck.rejectionCount() - before).isEqualTo(2);
        watch.deactivate();
    }
}
