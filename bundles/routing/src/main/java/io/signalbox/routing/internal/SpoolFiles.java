package io.signalbox.routing.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The names of a spool's files: one directory per backend under {@code spool.dir}
 * ({@link #directoryName}), segment files {@code <seq, 20 digits>.seg} in it ({@link #segmentName}).
 */
final class SpoolFiles {
    static final String SUFFIX = ".seg";
    /** Highest segment number accepted when reading; numbers count from 1, one per segment. */
    static final long MAX_SEQ = 999_999_999_999_999_999L;

    private SpoolFiles() {
    }

    /** The directory name used for a backend name: safe characters kept, others as {@code _xx}. */
    static String directoryName(String backend) {
        StringBuilder sb = new StringBuilder(backend.length());
        for (byte b : backend.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
                sb.append(c);
            } else {
                sb.append('_').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        String s = sb.toString();
        return s.equals(".") || s.equals("..") ? "_2e" + s.substring(1) : s;
    }

    /** The inverse of {@link #directoryName}. */
    static String backendName(String directory) {
        if (directory.indexOf('_') < 0) {
            return directory;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < directory.length(); i++) {
            char c = directory.charAt(i);
            if (c == '_' && i + 2 < directory.length()) {
                out.write(Integer.parseInt(directory.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Whether {@code name} is a directory name {@link #directoryName} gives some backend. */
    static boolean isDirectoryName(String name) {
        try {
            return directoryName(backendName(name)).equals(name);
        } catch (RuntimeException e) { // a '_' not followed by two hex digits
            return false;
        }
    }

    /** The sequence number of a segment file name, or -1 if it is not one ({@link #segmentName}). */
    static long segmentSeq(String fileName) {
        if (fileName.length() != 20 + SUFFIX.length() || !fileName.endsWith(SUFFIX)) {
            return -1;
        }
        long seq = 0;
        for (int i = 0; i < 20; i++) {
            char c = fileName.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            if (seq > (MAX_SEQ - (c - '0')) / 10) {
                return -1; // beyond anything this spool writes (it counts from 1): not ours
            }
            seq = seq * 10 + (c - '0');
        }
        return seq;
    }

    static String segmentName(long seq) {
        return String.format("%020d", seq) + SUFFIX;
    }
}
