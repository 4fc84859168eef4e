/** PostgreSQL/TimescaleDB backend: COPY of each batch into an events and a metrics table. Not exported. */
package io.signalbox.backend.postgres.internal;
