package io.signalbox.transport.tcp.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.LongAdder;

import org.apache.mina.core.buffer.AbstractIoBuffer;
import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.buffer.IoBufferAllocator;

/**
 * MINA's buffer allocator with one spare read buffer per size for each I/O thread.
 *
 * <p>Why: MINA allocates a new heap buffer of the session's read-buffer size (16–64 KiB) for
 * every read and drops it once the handler has run ({@code AbstractPollingIoProcessor.read}). At
 * full speed that was a quarter of everything the sidecar allocated (load/README.md, "Session 12"),
 * each one zeroed first. {@link LineHandler} copies what it keeps (every line, the carry-over of a
 * partial one), so once it has returned nothing refers to the buffer: it gives the buffer back with
 * {@link #recycle}, and the same thread's next read of that size gets it again.
 *
 * <p>MINA's allocator is process-wide ({@link IoBuffer#setAllocator}); {@link #install} and
 * {@link #uninstall} are counted so that any number of transports share one. Buffers handed out
 * for anything else (TLS records, writes) behave as with MINA's default allocator: they are never
 * recycled, only ever garbage. A buffer is recycled only by the thread it was read on, so a spare is
 * never seen by two threads.
 *
 * <p>It makes its buffers itself ({@link Buffer}, as MINA's {@code SimpleBufferAllocator} does)
 * rather than delegating: MINA's buffer constructor makes the allocator it is given the
 * process-wide one ({@code AbstractIoBuffer(IoBufferAllocator, int)} calls
 * {@code IoBuffer.setAllocator}), so a delegate's first buffer would silently uninstall this one.
 */
final class ReadBuffers implements IoBufferAllocator {
    /** Sizes up to 2^20 bytes are kept (MINA's read buffers are powers of two from 64 B to 64 KiB by default). */
    private static final int MAX_SHIFT = 20;

    private static final ReadBuffers INSTANCE = new ReadBuffers();
    private static int installs;
    private static IoBufferAllocator replaced;

    /** Per I/O thread: index {@code k} holds a free buffer of capacity {@code 2^k}, or {@code null}. */
    private final ThreadLocal<IoBuffer[]> spares = ThreadLocal.withInitial(() -> new IoBuffer[MAX_SHIFT + 1]);
    /** Allocations served by a spare (for tests). */
    final LongAdder reused = new LongAdder();

    ReadBuffers() {
    }

    /** Makes the shared instance MINA's allocator (counted: the last {@link #uninstall} restores the previous one). */
    static synchronized ReadBuffers install() {
        if (installs++ == 0) {
            replaced = IoBuffer.getAllocator();
            IoBuffer.setAllocator(INSTANCE);
        }
        return INSTANCE;
    }

    /** Undoes one {@link #install}. */
    static synchronized void uninstall() {
        if (installs > 0 && --installs == 0) {
            if (IoBuffer.getAllocator() == INSTANCE) {
                IoBuffer.setAllocator(replaced);
            }
            replaced = null;
        }
    }

    @Override
    public IoBuffer allocate(int capacity, boolean direct) {
        int k = slot(capacity);
        if (!direct && k >= 0) {
            IoBuffer[] mine = spares.get();
            IoBuffer b = mine[k];
            if (b != null) {
                mine[k] = null;
                b.clear();
                reused.increment();
                return b;
            }
        }
        return new Buffer(allocateNioBuffer(capacity, direct));
    }

    @Override
    public ByteBuffer allocateNioBuffer(int capacity, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
    }

    @Override
    public IoBuffer wrap(ByteBuffer nioBuffer) {
        return new Buffer(nioBuffer);
    }

    @Override
    public void dispose() {
        // nothing held beyond the I/O threads' spares, which go with their threads
    }

    /**
     * The caller, on the thread that read {@code buf}, is done with it and nothing else refers to it
     * (a plain connection's read buffer after {@link LineHandler} processed it).
     */
    void recycle(IoBuffer buf) {
        if (buf.isDirect() || buf.isDerived() || buf.isReadOnly() || buf.isAutoExpand() || buf.isAutoShrink()) {
            return;
        }
        int k = slot(buf.capacity());
        if (k >= 0) {
            spares.get()[k] = buf;
        }
    }

    /** The spare slot for a capacity: its power of two, or -1 if it is not one or too large. */
    private static int slot(int capacity) {
        if (capacity <= 0 || Integer.bitCount(capacity) != 1) {
            return -1;
        }
        int k = Integer.numberOfTrailingZeros(capacity);
        return k <= MAX_SHIFT ? k : -1;
    }

    /** A buffer over a {@link ByteBuffer}, made by this allocator (what MINA's {@code SimpleBuffer} is). */
    private final class Buffer extends AbstractIoBuffer {
        private ByteBuffer buf;

        Buffer(ByteBuffer buf) {
            super(ReadBuffers.this, buf.capacity());
            this.buf = buf;
            buf.order(ByteOrder.BIG_ENDIAN);
        }

        private Buffer(Buffer parent, ByteBuffer buf) {
            super(parent);
            this.buf = buf;
        }

        @Override
        public ByteBuffer buf() {
            return buf;
        }

        @Override
        protected void buf(ByteBuffer buf) {
            this.buf = buf;
        }

        @Override
        protected IoBuffer duplicate0() {
            return new Buffer(this, buf.duplicate());
        }

        @Override
        protected IoBuffer slice0() {
            return new Buffer(this, buf.slice());
        }

        @Override
        protected IoBuffer asReadOnlyBuffer0() {
            return new Buffer(this, buf.asReadOnlyBuffer());
        }

        @Override
        public byte[] array() {
            return buf.array();
        }

        @Override
        public int arrayOffset() {
            return buf.arrayOffset();
        }

        @Override
        public boolean hasArray() {
            return buf.hasArray();
        }

        @Override
        public void free() {
            // heap and direct buffers alike are left to the garbage collector, as with MINA's default
        }
    }
}
