package io.signalbox.backend.postgres.internal;

import java.sql.SQLException;
import java.util.Map;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postgresql.Driver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Backend;
import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.ConfigCheck;

/**
 * One PostgreSQL backend per factory configuration {@code etc/io.signalbox.backend.postgres-<name>.cfg},
 * run by a {@link BackendLifecycle}: the configuration is validated as a whole
 * ({@link PostgresSettings#of}). Invalid at activation: logged, counted, and
 * {@link ConfigCheck.Rejected} thrown, so nothing is registered until the file is corrected.
 * Invalid on modification: logged, counted, and the configuration in force stays. A valid
 * modification applies from the next batch (a new pool; the write in flight finishes on the old
 * one); a new instance name registers the backend anew. Configuration values are never published
 * as service properties and the password is never logged.
 */
@Component(name = PostgresBackendComponent.FACTORY_PID, configurationPid = PostgresBackendComponent.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = {}, immediate = true)
@Designate(ocd = PostgresBackendComponent.Config.class, factory = true)
public final class PostgresBackendComponent {
    /** Factory PID: {@code etc/io.signalbox.backend.postgres-<name>.cfg}. */
    public static final String FACTORY_PID = "io.signalbox.backend.postgres";
    /** Value of the {@value Backend#KIND} service property. */
    public static final String KIND = "postgres";

    private static final Logger LOG = LoggerFactory.getLogger(PostgresBackendComponent.class);

    @ObjectClassDefinition(id = FACTORY_PID, name = "Signalbox PostgreSQL/TimescaleDB backend",
            description = "COPY of each batch into an events table (every message) and a typed metrics table (metric messages).")
    public @interface Config {
        @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.")
        String name() default "";

        @AttributeDefinition(description = "JDBC URL (no password in it).")
        String url() default "jdbc:postgresql://127.0.0.1:5432/signalbox";

        @AttributeDefinition(description = "Database user.")
        String user() default "signalbox";

        @AttributeDefinition(type = AttributeType.PASSWORD,
                description = "Password, best as ${env:NAME}; never logged. Empty = none (or password.file).")
        String password() default "";

        @AttributeDefinition(description = "File whose content (trailing newline removed) is the password; read at each connect.")
        String password_file() default "";

        @AttributeDefinition(description = "Table for every message, optionally schema-qualified.")
        String events_table() default "monitoring_events";

        @AttributeDefinition(description = "Typed table for metric messages, optionally schema-qualified.")
        String metrics_table() default "monitoring_metrics";

        @AttributeDefinition(description = "Create the tables (hypertables with TimescaleDB, else a ts index) if missing.")
        boolean schema_create() default true;

        @AttributeDefinition(description = "Connect and login timeout in seconds.")
        int connect_timeout_seconds() default 10;

        @AttributeDefinition(description = "Read timeout of a statement in seconds, 0 = none.")
        int socket_timeout_seconds() default 60;

        @AttributeDefinition(description = "Most open connections.")
        int pool_size() default 2;
    }

    private final BackendLifecycle<PostgresSettings, PostgresBackend> lifecycle;
    private final Function<String, String> env;

    @Activate
    public PostgresBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        this(config, properties, context, System::getenv);
    }

    /** @param env resolves {@code ${env:NAME}} in the password (tests pass their own) */
    PostgresBackendComponent(Config config, Map<String, Object> properties, BundleContext context,
            Function<String, String> env) {
        this.env = env;
        deregisterDriver();
        lifecycle = new BackendLifecycle<>(context, FACTORY_PID, KIND, LOG, PostgresBackend::new, PostgresSettings::describe);
        lifecycle.activate(properties, config.name(), () -> PostgresSettings.of(config, properties, env));
    }

    @Modified
    void modified(Config config, Map<String, Object> properties) {
        lifecycle.modify(properties, config.name(), () -> PostgresSettings.of(config, properties, env));
    }

    @Deactivate
    void deactivate() {
        lifecycle.deactivate();
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
            LOG.debug("could not deregister the embedded PostgreSQL driver from DriverManager", e);
        }
    }
}
