/** Unix domain socket transport: internal, nothing exported. */
package io.signalbox.transport.uds.internal;
