package io.signalbox.protocol;

/**
 * What a decode notes about the envelope fields of one line, the same way in both decoders (the
 * scanner's {@link JsonCursor} family and the Jackson decoder's {@link LineScan}): which fields
 * were seen, a field given twice or with a value of the wrong kind, and the first problem.
 * Scratch state of one decode.
 */
abstract class FieldTally {
    /** Envelope fields seen, by {@link Field#bit}. */
    int seen;
    /** The first problem, or {@code null}. */
    DecodeResult error;

    /** Marks an envelope field as seen; a second occurrence (under either name) is a failure. */
    final boolean mark(Field field) {
        if ((seen & field.bit) != 0) {
            fail(field.duplicate);
            return false;
        }
        seen |= field.bit;
        return true;
    }

    /** Marks {@code field} as seen; true if it was new and of the right kind ({@code rightKind}), else the problem is noted. */
    final boolean accept(Field field, boolean rightKind) {
        if (!mark(field)) {
            return false;
        }
        if (!rightKind) {
            fail(field.badType);
        }
        return rightKind;
    }

    /** Keeps the first problem. */
    final void fail(DecodeResult result) {
        if (error == null) {
            error = result;
        }
    }
}
