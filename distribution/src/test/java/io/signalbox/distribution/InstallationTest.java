package io.signalbox.distribution;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test of its own copy of the assembled distribution ({@link Installation}), made before each
 * test in a temp folder and stopped after it, whatever happened in it.
 */
abstract class InstallationTest {
    @TempDir
    Path tempDir;

    Installation signalbox;

    @BeforeEach
    final void copyDistribution() throws IOException {
        signalbox = Installation.copyInto(tempDir);
    }

    @AfterEach
    final void stopWhateverIsLeft() {
        signalbox.stopQuietly();
    }
}
