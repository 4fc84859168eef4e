/**
 * The TCP transport: an Apache MINA acceptor that splits the byte stream into lines, decodes them
 * with the protocol bundle and offers the messages to {@link io.signalbox.api.Ingest}, pausing
 * reads while the pipeline is full. Not exported.
 */
package io.signalbox.transport.tcp.internal;
