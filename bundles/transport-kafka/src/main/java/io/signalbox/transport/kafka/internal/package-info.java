/**
 * The Kafka transport: a consumer group member feeding the pipeline, committing offsets only behind
 * delivered messages. Private to the bundle.
 */
package io.signalbox.transport.kafka.internal;
