package io.signalbox.protocol;

import com.fasterxml.jackson.core.StreamReadConstraints;

/**
 * The limits of a factory's {@code StreamReadConstraints} that the scanner applies, where and as
 * Jackson applies them: nesting depth (the line's object is level 1), digits of a number (the
 * integer part of an integer; all three parts of a float, signs not counted), chars of a string
 * whose text is read (a kept string, or an integer id's text), UTF-8 bytes of a field name.
 */
record ScanLimits(int depth, int number, int string, int name) {
    static ScanLimits of(StreamReadConstraints c) {
        return new ScanLimits(c.getMaxNestingDepth(), c.getMaxNumberLength(), c.getMaxStringLength(), c.getMaxNameLength());
    }
}
