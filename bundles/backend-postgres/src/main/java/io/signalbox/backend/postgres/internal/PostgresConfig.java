package io.signalbox.backend.postgres.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The typed configuration of a {@link PostgresBackendComponent}, one per file
 * {@code etc/io.signalbox.backend.postgres-<name>.cfg}; validated as a whole by {@link PostgresSettings#of}.
 */
@ObjectClassDefinition(id = PostgresConfig.PID, name = "Signalbox PostgreSQL/TimescaleDB backend", description = "COPY of each batch into an events table (every message) and a typed metrics table (metric messages).")
public @interface PostgresConfig {
    @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.") String name() default "";
    @AttributeDefinition(description = "JDBC URL (no password in it), or a libpq connection URI postgresql://user:password@host:port/db?sslmode=... (user and password taken from it, never logged).") String url() default "jdbc:postgresql://127.0.0.1:5432/signalbox";
    @AttributeDefinition(description = "Database user.") String user() default "signalbox";
    @AttributeDefinition(type = AttributeType.PASSWORD, description = "Password, best as ${env:NAME}; never logged. Empty = none (or password.file).") String password() default "";
    @AttributeDefinition(description = "File whose content (trailing newline removed) is the password; read at each connect.") String password_file() default "";
    @AttributeDefinition(description = "Table for every message, optionally schema-qualified.") String events_table() default "monitoring_events";
    @AttributeDefinition(description = "Typed table for metric messages, optionally schema-qualified.") String metrics_table() default "monitoring_metrics";
    @AttributeDefinition(description = "Create the tables (hypertables with TimescaleDB, else a ts index) if missing.") boolean schema_create() default true;
    @AttributeDefinition(description = "Connect and login timeout in seconds.") int connect_timeout_seconds() default 10;
    @AttributeDefinition(description = "Read timeout of a statement in seconds, 0 = none.") int socket_timeout_seconds() default 60;
    @AttributeDefinition(description = "Most open connections.") int pool_size() default 2;

    /** Factory PID: {@code etc/io.signalbox.backend.postgres-<name>.cfg}. */
    String PID = "io.signalbox.backend.postgres";
}
