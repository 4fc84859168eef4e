package io.signalbox.transport.tcp.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicReference;

import org.apache.mina.core.buffer.IoBuffer;
import org.apache.mina.core.buffer.IoBufferAllocator;
import org.junit.jupiter.api.Test;

class ReadBuffersTest {
    private final ReadBuffers buffers = new ReadBuffers();

    @Test
    void aRecycledBufferIsHandedOutAgainClearedForTheSameSizeOnly() {
        IoBuffer first = buffers.allocate(16 * 1024, false);
        first.put((byte) 7).put((byte) 8);
        first.flip();
        buffers.recycle(first);

        assertThat(buffers.allocate(32 * 1024, false)).isNotSameAs(first);
        IoBuffer again = buffers.allocate(16 * 1024, false);
        assertThat(again).isSameAs(first);
        assertThat(again.position()).isZero();
        assertThat(again.limit()).isEqualTo(16 * 1024);
        // taken: the next one of that size is new
        assertThat(buffers.allocate(16 * 1024, false)).isNotSameAs(first);
        assertThat(buffers.reused.sum()).isEqualTo(1);
    }

    @Test
    void aSpareBelongsToTheThreadThatRecycledIt() throws Exception {
        IoBuffer mine = buffers.allocate(4096, false);
        buffers.recycle(mine);
        AtomicReference<IoBuffer> other = new AtomicReference<>();
        Thread t = new Thread(() -> other.set(buffers.allocate(4096, false)));
        t.start();
        t.join();
        assertThat(other.get()).isNotSameAs(mine);
        assertThat(buffers.allocate(4096, false)).isSameAs(mine);
    }

    @Test
    void directOddSizedExpandingAndDerivedBuffersAreNeverKept() {
        IoBuffer direct = buffers.allocate(4096, true);
        buffers.recycle(direct);
        assertThat(buffers.allocate(4096, true)).isNotSameAs(direct);

        IoBuffer odd = buffers.allocate(5000, false);
        buffers.recycle(odd);
        assertThat(buffers.allocate(5000, false)).isNotSameAs(odd);

        IoBuffer expanding = buffers.allocate(4096, false).setAutoExpand(true);
        buffers.recycle(expanding);
        assertThat(buffers.allocate(4096, false)).isNotSameAs(expanding);

        IoBuffer parent = buffers.allocate(8192, false);
        IoBuffer slice = parent.slice();
        buffers.recycle(slice);
        assertThat(buffers.allocate(8192, false)).isNotSameAs(slice);
        assertThat(buffers.reused.sum()).isZero();
    }

    @Test
    void installIsCountedAndTheLastUninstallRestoresMinasAllocator() {
        IoBufferAllocator before = IoBuffer.getAllocator();
        ReadBuffers a = ReadBuffers.install();
        ReadBuffers b = ReadBuffers.install();
        assertThat(a).isSameAs(b);
        assertThat(IoBuffer.getAllocator()).isSameAs(a);
        ReadBuffers.uninstall();
        assertThat(IoBuffer.getAllocator()).isSameAs(a);
        ReadBuffers.uninstall();
        assertThat(IoBuffer.getAllocator()).isSameAs(before);
        ReadBuffers.uninstall(); // one too many: no effect
        assertThat(IoBuffer.getAllocator()).isSameAs(before);
    }
}
