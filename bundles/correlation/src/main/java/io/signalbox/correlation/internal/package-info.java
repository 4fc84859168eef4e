/**
 * Correlation: per-source buffers flushed by size, age and severity into batches for the
 * router, the pipeline's back-pressure accounting, and the in-memory trace store.
 */
package io.signalbox.correlation.internal;
