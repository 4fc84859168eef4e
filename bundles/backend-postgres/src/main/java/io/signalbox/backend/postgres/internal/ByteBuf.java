package io.signalbox.backend.postgres.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer reused from batch to batch (no per-message allocation once it has grown). */
final class ByteBuf {
    private byte[] bytes;
    private int size;

    ByteBuf(int capacity) {
        bytes = new byte[capacity];
    }

    void reset() {
        size = 0;
    }

    int size() {
        return size;
    }

    byte[] array() {
        return bytes;
    }

    void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }

    void put(byte b) {
        if (size == bytes.length) {
            ensure(1);
        }
        bytes[size++] = b;
    }

    void put(int a, int b) {
        ensure(2);
        bytes[size++] = (byte) a;
        bytes[size++] = (byte) b;
    }

    /** ASCII text, not escaped: separators, numbers, type names. */
    void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            bytes[size++] = (byte) s.charAt(i);
        }
    }

    /** The content as text (tests and debugging). */
    @Override
    public String toString() {
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }
}
