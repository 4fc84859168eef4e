package io.signalbox.backend.file.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The typed configuration of a {@link FileBackendComponent}, one per file
 * {@code etc/io.signalbox.backend.file-<name>.cfg}; validated as a whole by {@link FileSettings#of}.
 */
@ObjectClassDefinition(id = FileConfig.PID, name = "Signalbox file backend", description = "JSON lines files with a path template, daily and size rotation, gzip and an fsync policy.")
public @interface FileConfig {
    @AttributeDefinition(description = "Instance name routes refer to; empty = the -<name> of the config file or ~<name> of the PID.") String name() default "";
    @AttributeDefinition(description = "Root folder; relative paths are relative to the working directory.") String path() default "data/files";
    @AttributeDefinition(description = "File path under 'path': {source} {date} (yyyy-MM-dd) {hour} (HH) {type}; UTC write time.") String path_template() default "{source}/{date}.jsonl";
    @AttributeDefinition(description = "Rotate a file before it would exceed this many MiB: <base>.1.jsonl, <base>.2.jsonl, ...; 0 = off.") double rotate_size_mb() default 0;
    @AttributeDefinition(description = "Gzip files once they are rotated (by size or when their day/hour is over).") boolean compress_rotated() default false;
    @AttributeDefinition(description = "When data is forced to disk: never, batch (before a batch counts as delivered), interval.", options = {@Option(label = "never", value = "never"), @Option(label = "batch", value = "batch"), @Option(label = "interval", value = "interval")}) String fsync() default "interval";
    @AttributeDefinition(description = "Period of fsync=interval, in milliseconds.") long fsync_interval_ms() default 1000;
    @AttributeDefinition(description = "Write buffer in KiB, shared by the files of one batch.") int buffer_kb() default 64;
    @AttributeDefinition(description = "Close files nobody wrote to for this many seconds; 0 = never.") long idle_close_seconds() default 300;
    @AttributeDefinition(description = "At most this many files open at once; the least recently written is closed first. 0 = auto: 3/4 of the process's open-file limit less 1,024, within 256..65,536.", min = "0") int max_open_files() default 0;
    @AttributeDefinition(description = "Permission bits (octal) of the files this backend creates.") String file_mode() default "0640";
    @AttributeDefinition(description = "Permission bits (octal) of the folders this backend creates.") String dir_mode() default "0750";
    @AttributeDefinition(description = "Allow a 'path' outside the distribution folder (signalbox.home).") boolean allow_absolute_path() default false;

    /** Factory PID: {@code etc/io.signalbox.backend.file-<name>.cfg}. */
    String PID = "io.signalbox.backend.file";
}
