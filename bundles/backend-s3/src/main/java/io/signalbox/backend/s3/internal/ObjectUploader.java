package io.signalbox.backend.s3.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * Uploads one staged file as one object: the file is streamed (through gzip if configured) into a
 * buffer of one part; if the object fits one part it is a single PutObject, otherwise a multipart
 * upload of parts of that size. Memory: one part buffer per upload in progress. A failed multipart
 * upload is aborted (best effort) and the exception rethrown; the key is deterministic, so a retry
 * overwrites rather than duplicates.
 */
final class ObjectUploader {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectUploader.class);

    private ObjectUploader() {
    }

    /** What was stored: the object's size and its number of parts (1 = a single PutObject). */
    record Uploaded(long bytes, int parts) {
    }

    static Uploaded upload(S3Client s3, String bucket, String key, Path file, boolean gzip, int partSize) throws IOException {
        PartSink sink = new PartSink(s3, bucket, key, partSize, gzip ? "application/gzip" : "application/x-ndjson");
        try (InputStream in = Files.newInputStream(file)) {
            OutputStream out = gzip ? new FastGzip(sink) : sink;
            in.transferTo(out);
            out.close();
            return new Uploaded(sink.total, Math.max(1, sink.parts.size()));
        } catch (IOException | RuntimeException e) {
            sink.abort(e);
            throw e;
        }
    }

    /** Level 1: JSON lines compress well even so, and the sidecar's CPU is the scarce resource. */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 64 * 1024);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }

    private static final class PartSink extends OutputStream {
        private final S3Client s3;
        private final String bucket;
        private final String key;
        private final String contentType;
        private final byte[] buf;
        private int pos;
        private long total;
        private String uploadId;
        private final List<CompletedPart> parts = new ArrayList<>();
        private boolean closed;

        PartSink(S3Client s3, String bucket, String key, int partSize, String contentType) {
            this.s3 = s3;
            this.bucket = bucket;
            this.key = key;
            this.contentType = contentType;
            this.buf = new byte[partSize];
        }

        @Override
        public void write(int b) {
            if (pos == buf.length) {
                sendPart();
            }
            buf[pos++] = (byte) b;
            total++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            while (len > 0) {
                if (pos == buf.length) {
                    sendPart();
                }
                int n = Math.min(len, buf.length - pos);
                System.arraycopy(b, off, buf, pos, n);
                pos += n;
                off += n;
                len -= n;
                total += n;
            }
        }

        private void sendPart() {
            if (uploadId == null) {
                uploadId = s3.createMultipartUpload(r -> r.bucket(bucket).key(key).contentType(contentType)).uploadId();
                LOG.debug("multipart upload of {} started", key);
            }
            int number = parts.size() + 1;
            UploadPartResponse response = s3.uploadPart(r -> r.bucket(bucket).key(key).uploadId(uploadId)
                    .partNumber(number).contentLength((long) pos),
                    RequestBody.fromInputStream(new ByteArrayInputStream(buf, 0, pos), pos));
            parts.add(CompletedPart.builder().partNumber(number).eTag(response.eTag()).build());
            pos = 0;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (uploadId == null) {
                s3.putObject(r -> r.bucket(bucket).key(key).contentType(contentType).contentLength((long) pos),
                        RequestBody.fromInputStream(new ByteArrayInputStream(buf, 0, pos), pos));
                return;
            }
            if (pos > 0) {
                sendPart();
            }
            s3.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()));
            LOG.debug("multipart upload of {} completed: {} parts", key, parts.size());
        }

        void abort(Exception cause) {
            if (uploadId == null) {
                return;
            }
            String id = uploadId;
            uploadId = null;
            try {
                s3.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id));
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
                LOG.debug("aborting multipart upload of {} failed", key, e);
            }
        }
    }
}
