/**
 * The HTTP endpoints on 127.0.0.1:17001 (metrics, health, API, traces, tail, HTTP ingest), each a DS
 * component on the OSGi servlet whiteboard, and the component that applies the address to Felix
 * HTTP. Not exported: other bundles talk to these only over HTTP.
 */
package io.signalbox.http.internal;
