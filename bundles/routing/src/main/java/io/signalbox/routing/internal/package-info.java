/**
 * Routing: route definitions from Config Admin, the routing table and one delivery channel
 * (queue, worker thread, retry with back-off) per backend name. Not exported.
 */
package io.signalbox.routing.internal;
