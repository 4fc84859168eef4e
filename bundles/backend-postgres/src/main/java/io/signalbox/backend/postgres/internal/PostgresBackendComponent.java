package io.signalbox.backend.postgres.internal;

import java.sql.SQLException;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
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
import io.signalbox.api.BackendNames;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.StatsSource;

/**
 * One PostgreSQL backend per factory configuration {@code etc/io.signalbox.backend.postgres-<name>.cfg}.
 *
 * <p>The configuration is validated as a whole first. Invalid at activation: ERROR with the
 * reason, nothing registered. Invalid on modification: ERROR, the previous configuration stays
 * in force. A valid modification replaces the backend (new pool; the write in flight finishes
 * on the old one). The component registers the {@link PostgresBackend} as {@link Backend} and
 * {@link StatsSource} itself with {@value Backend#NAME} and {@value Backend#KIND} = {@value #KIND};
 * configuration values are not published as service properties and the password is never logged.
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

    private final BundleContext context;
    private final Function<String, String> env;
    private PostgresBackend backend;
    private ServiceRegistration<?> registration;

    @Activate
    public PostgresBackendComponent(Config config, Map<String, Object> properties, BundleContext context) {
        this(config, properties, context, System::getenv);
    }

    PostgresBackendComponent(Config config, Map<String, Object> properties, BundleContext context,
            Function<String, String> env) {
        this.context = context;
        this.env = env;
        deregisterDriver();
        apply(config, properties, false);
    }

    /** A changed configuration: applied if valid, else rejected with the previous one kept. */
    @Modified
    public void modified(Config config, Map<String, Object> properties) {
        apply(config, properties, true);
    }

    /** @return whether the configuration was applied */
    synchronized boolean apply(Config config, Map<String, ?> properties, boolean modification) {
        PostgresSettings settings;
        String name;
        try {
            settings = PostgresSettings.of(config, properties, env);
            name = instanceName(config, properties);
        } catch (IllegalArgumentException e) {
            String consequence = !modification ? "; the backend is not registered"
                    : backend != null ? "; the previous configuration stays in force"
                    : "; the backend stays unregistered";
            LOG.error("{}{}", ConfigCheck.rejection(FACTORY_PID, properties, e.getMessage()), consequence);
            return false;
        }
        if (backend != null && backend.name().equals(name)) {
            backend.update(settings);
            registration.setProperties(serviceProperties(properties, name));
            LOG.info("postgres backend \"{}\" reconfigured: {}", name, settings.describe());
            return true;
        }
        if (backend != null) {
            LOG.info("postgres backend \"{}\" renamed to \"{}\"", backend.name(), name);
            unregister();
        }
        PostgresBackend created = new PostgresBackend(name, settings);
        try {
            registration = context.registerService(
                    new String[] {Backend.class.getName(), StatsSource.class.getName()}, created,
                    serviceProperties(properties, name));
        } catch (RuntimeException e) {
            created.close();
            throw e;
        }
        backend = created;
        LOG.info("postgres backend \"{}\" started: {} (tables are checked on the first write)", name, settings.describe());
        return true;
    }

    @Deactivate
    public synchronized void deactivate() {
        PostgresBackend b = backend;
        unregister();
        if (b != null) {
            LOG.info("postgres backend \"{}\" stopped", b.name());
        }
    }

    private void unregister() {
        ServiceRegistration<?> r = registration;
        PostgresBackend b = backend;
        registration = null;
        backend = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("postgres backend \"{}\" was already unregistered", b == null ? "?" : b.name(), e);
            }
        }
        if (b != null) {
            b.close();
        }
    }

    /** The backend in service, or {@code null}. */
    synchronized PostgresBackend backend() {
        return backend;
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

    static String instanceName(Config config, Map<String, ?> properties) {
        String explicit = config.name() == null ? "" : config.name().trim();
        if (!explicit.isEmpty()) {
            return explicit;
        }
        String derived = BackendNames.of(properties);
        if (derived != null && !derived.isBlank()) {
            return derived;
        }
        Object pid = properties.get("service.pid");
        if (pid != null) {
            return pid.toString();
        }
        throw new IllegalArgumentException("no backend name: set 'name' or use a file etc/" + FACTORY_PID + "-<name>.cfg");
    }

    /** Framework properties of the configuration plus name and kind; never its values (the password). */
    static Hashtable<String, Object> serviceProperties(Map<String, ?> properties, String name) {
        return BackendNames.serviceProperties(properties, name, KIND);
    }
}
