package io.signalbox.backend.s3.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The typed configuration of a {@link S3BackendComponent}, one per file
 * {@code etc/io.signalbox.backend.s3-<name>.cfg}; validated as a whole by {@link S3Settings#of}.
 */
@ObjectClassDefinition(id = S3Config.PID, name = "Signalbox S3 backend", description = "Batches per source into JSONL (gzip) objects in an S3 bucket, staged on local disk until uploaded.")
public @interface S3Config {
    @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> part of the config file.") String name() default "";
    @AttributeDefinition(description = "AWS region (also needed, but arbitrary, for most S3-compatible stores).") String region() default "us-east-1";
    @AttributeDefinition(description = "Endpoint URL of an S3-compatible store; empty = AWS.") String endpoint() default "";
    @AttributeDefinition(description = "Path-style requests (http://host/bucket/key), needed by most S3-compatible stores.") boolean path_style() default false;
    @AttributeDefinition(description = "Access key id; empty (with secret.access.key) = the default credential chain.") String access_key_id() default "";
    @AttributeDefinition(description = "Secret access key; use ${env:NAME}. Never logged.", type = AttributeType.PASSWORD) String secret_access_key() default "";
    @AttributeDefinition(description = "Gzip objects (and keep the .gz of key.template; without gzip it is dropped).") boolean gzip() default true;
    @AttributeDefinition(description = "Bucket (required).") String bucket() default "";
    @AttributeDefinition(description = "Key prefix, e.g. signalbox/ (used by {prefix} in key.template).") String prefix() default "";
    @AttributeDefinition(description = "Object key template.") String key_template() default "{prefix}{source}/{yyyy}/{MM}/{dd}/{HH}/{uuid}.jsonl.gz";
    @AttributeDefinition(description = "An object is closed and uploaded when its uncompressed size reaches this many MiB.") long object_max_mb() default 8;
    @AttributeDefinition(description = "... or when its first batch is this old, in seconds.") long object_max_age_seconds() default 60;
    @AttributeDefinition(description = "Objects larger than this (after gzip) are sent as multipart uploads of parts of this size, MiB (5-2047).") int part_size_mb() default 8;
    @AttributeDefinition(description = "Staging directory; the backend uses <staging.dir>/<name>/. Relative to the working directory.") String staging_dir() default "data/s3";
    @AttributeDefinition(description = "Largest staging of this backend in MiB; when full, write() fails and routing retries/spools.") long staging_max_mb() default 1024;
    @AttributeDefinition(description = "fsync the staging file after each batch (slower; survives power loss, not just a crash).") boolean fsync() default false;
    @AttributeDefinition(description = "First delay before a failed upload is retried, ms; doubles up to retry.max.ms.") long retry_initial_ms() default 1000;
    @AttributeDefinition(description = "Longest delay between upload retries, ms.") long retry_max_ms() default 60000;
    @AttributeDefinition(description = "Objects uploaded in parallel.") int upload_threads() default 2;
    @AttributeDefinition(description = "Connect timeout, ms.") long connect_timeout_ms() default 10000;
    @AttributeDefinition(description = "Socket read timeout, ms.") long socket_timeout_ms() default 60000;
    @AttributeDefinition(description = "On stop, how long to keep uploading pending objects, s; what is left stays staged for the next start.") long close_timeout_seconds() default 30;

    /** Factory PID: {@code etc/io.signalbox.backend.s3-<name>.cfg}. */
    String PID = "io.signalbox.backend.s3";
}
