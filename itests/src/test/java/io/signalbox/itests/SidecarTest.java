package io.signalbox.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * What every test of the live pipeline starts from: the framework's bundle context and Config
 * Admin (injected by osgi-test), a {@link Sidecar} on them and a fresh temp folder. After each
 * test the pipeline must be idle again: every message it sent was handed to routing, counted
 * unrouted or dropped (a leak would eventually stop the transport reading); then the
 * configurations the test created are deleted ({@link #cleanUp()}).
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
abstract class SidecarTest {
    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = 5000)
    ConfigurationAdmin configAdmin;

    Sidecar sidecar;
    /** A temp folder of this test. */
    Path dir;

    @BeforeEach
    final void startSidecar() throws Exception {
        sidecar = new Sidecar(context, configAdmin);
        dir = Files.createTempDirectory("signalbox-" + getClass().getSimpleName());
    }

    @AfterEach
    final void stopSidecarTest() throws Exception {
        try {
            sidecar.awaitPipelineIdle();
        } finally {
            cleanUp();
        }
    }

    /** Deletes the configurations the test created; a subclass adds its own clean-up. */
    void cleanUp() throws Exception {
        sidecar.deleteCreated();
    }

    /** A file backend instance {@code name} writing under {@code dir/name}; returns that folder. */
    Path fileBackend(String name) throws IOException {
        Path path = dir.resolve(name);
        sidecar.fileBackend(name, path);
        return path;
    }
}
