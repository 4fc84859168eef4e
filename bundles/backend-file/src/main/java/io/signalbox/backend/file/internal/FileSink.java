package io.signalbox.backend.file.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The few file operations the backend needs, so that tests can inject failures (a full
 * disk mid-batch) and count fsyncs. The production implementation is a {@link FileChannel}
 * positioned at the end of the file.
 */
interface FileSink extends Closeable {

    /** Opens (creating if needed) a file for appending. */
    @FunctionalInterface
    interface Factory {
        FileSink open(Path file) throws IOException;
    }

    /** Opens files as {@link FileChannel}s positioned at their end. */
    Factory CHANNELS = ChannelSink::new;

    /** Appends some bytes of {@code src} at the end, like {@link FileChannel#write(ByteBuffer)}. */
    int write(ByteBuffer src) throws IOException;

    /** Reads from an absolute position, like {@link FileChannel#read(ByteBuffer, long)}. */
    int read(ByteBuffer dst, long position) throws IOException;

    long size() throws IOException;

    /** Cuts the file to {@code size}; later writes continue there. */
    void truncate(long size) throws IOException;

    /** Forces written data to the device (fdatasync). */
    void force() throws IOException;

    /** The FileChannel implementation; not final so that tests can make some of its calls fail. */
    class ChannelSink implements FileSink {
        private final FileChannel channel;

        ChannelSink(Path file) throws IOException {
            // READ + APPEND is not allowed; the backend is the only writer, so write at the end
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.READ);
            try {
                channel.position(channel.size());
            } catch (IOException e) {
                try {
                    channel.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
                throw e;
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return channel.write(src);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return channel.read(dst, position);
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            channel.truncate(size);
        }

        @Override
        public void force() throws IOException {
            channel.force(false);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
