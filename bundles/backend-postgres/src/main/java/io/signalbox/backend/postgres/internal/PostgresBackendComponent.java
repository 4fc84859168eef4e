package io.signalbox.backend.postgres.internal;

import java.sql.SQLException;
import java.util.function.Function;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.postgresql.Driver;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendComponent;

/**
 * One PostgreSQL backend per factory configuration {@code etc/io.signalbox.backend.postgres-<name>.cfg},
 * run by a {@link io.signalbox.api.BackendLifecycle}: the configuration is validated as a whole
 * ({@link PostgresSettings#of}). Invalid at activation: logged, counted, and
 * {@link io.signalbox.api.ConfigCheck.Rejected} thrown, so nothing is registered until the file is corrected.
 * Invalid on modification: logged, counted, and the configuration in force stays. A valid
 * modification applies from the next batch (a new pool; the write in flight finishes on the old
 * one); a new instance name registers the backend anew. Configuration values are never published
 * as service properties and the password is never logged.
 */
@Component(name = PostgresConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = PostgresConfig.class, factory = true)
public final class PostgresBackendComponent extends BackendComponent<PostgresConfig, PostgresSettings, PostgresBackend> {
    public PostgresBackendComponent() {
        this(System::getenv);
    }

    /** @param env resolves {@code ${env:NAME}} in the password (tests pass their own) */
    PostgresBackendComponent(Function<String, String> env) {
        super(PostgresConfig.PID, "postgres", PostgresConfig.class, (c, p) -> PostgresSettings.of(c, p, env),
                PostgresBackend::new, PostgresSettings::describe);
        deregisterDriver();
    }

    /**
     * The driver's static initialiser registers it with {@code DriverManager}, which would keep
     * this bundle's class loader alive after an uninstall; the backend uses the driver directly.
     */
    private static void deregisterDriver() {
        try {
            if (Driver.isRegistered()) {
                Driver.deregister();
            }
        } catch (SQLException | IllegalStateException e) {
            LoggerFactory.getLogger(PostgresBackendComponent.class)
                    .debug("could not deregister the embedded PostgreSQL driver from DriverManager", e);
        }
    }
}
