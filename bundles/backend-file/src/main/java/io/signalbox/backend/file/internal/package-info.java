/**
 * The file backend: JSONL files under a path template, daily and size rotation, gzip of
 * rotated files and an explicit fsync policy. Private to the bundle; its README describes the
 * behaviour and maps the classes.
 */
package io.signalbox.backend.file.internal;
