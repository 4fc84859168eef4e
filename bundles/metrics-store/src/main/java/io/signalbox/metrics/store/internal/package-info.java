/**
 * The metrics store: DuckDB engine, the backend that routing feeds metric messages to, the HTTP
 * endpoints ({@code POST /metrics}, {@code GET /query}, {@code /api/v1/*}). Not exported.
 */
package io.signalbox.metrics.store.internal;
