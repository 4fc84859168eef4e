/**
 * The file backend: JSONL files under a path template, daily and size rotation, gzip of
 * rotated files and an explicit fsync policy. Private to the bundle.
 */
package io.signalbox.backend.file.internal;
