/**
 * The Kafka backend: every message one record (raw line as value, src/type headers, keyed by trace
 * id), a batch written once Kafka acknowledged every record. Private to the bundle.
 */
package io.signalbox.backend.kafka.internal;
