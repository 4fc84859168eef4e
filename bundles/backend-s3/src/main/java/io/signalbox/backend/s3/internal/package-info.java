/**
 * The S3 backend: batches are appended per source to staging files on local disk and uploaded
 * as JSONL (optionally gzip) objects by size and age, with retries. Private to the bundle.
 */
package io.signalbox.backend.s3.internal;
